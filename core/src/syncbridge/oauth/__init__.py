"""OAuth2 authorization-code support shared by every connector that needs it.

A connector describes its OAuth application with the ``oauth`` hook (an :class:`OAuthApp`
built from its settings); ``syncbridge auth <conn>`` runs the authorization-code flow with a
local redirect listener and stores the tokens in the state store; the connector's ``auth``
hook returns :class:`OAuth2Auth`, which signs requests, refreshes expired tokens (persisting
a rotated refresh token at once) and turns a rejected refresh into a clear "re-authorise"
error. Systems that grant tokens for a username and password (the resource-owner password
grant) sign with :class:`PasswordGrantAuth` instead. Token requests go through authlib; nothing
here parses OAuth by hand.
"""

from syncbridge.oauth.app import OAuthApp
from syncbridge.oauth.auth import OAuth2Auth
from syncbridge.oauth.flow import authorize, revoke
from syncbridge.oauth.password import PasswordGrant, PasswordGrantAuth

__all__ = ["OAuth2Auth", "OAuthApp", "PasswordGrant", "PasswordGrantAuth", "authorize", "revoke"]
