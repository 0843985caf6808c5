"""syncbridge connector for Simply CRM (vtiger's ``webservice.php``), with its emulator.

Read in this order: ``connector`` (the hooks), ``settings``, ``auth`` (challenge/login and
session renewal), ``api`` (the envelope error map, the sync and query resources), ``reads``,
``writes``, ``mapping`` (native <-> canonical, the field map a connection may override).
"""
