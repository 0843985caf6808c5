"""syncbridge connector for {{ cookiecutter.system_title }}.

One module per job, as every syncbridge plugin: ``settings`` (what a connection is configured
with), ``connector`` (the hooks syncbridge calls), ``mapping`` (native <-> canonical records)
and ``emulator`` (an offline copy of the API that the tests, the demo and
``syncbridge emulate {{ cookiecutter.connector_name }}`` run against).
"""
