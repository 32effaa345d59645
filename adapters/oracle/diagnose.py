"""Turn Oracle's refusals into what Oracle's setup guide tells the admin to fix."""

from __future__ import annotations

from lmsbridge.adapters.oracle.client import OracleError
from lmsbridge.adapters.oracle.options import OracleOptions

_BY_CODE = {
    "issuer_mismatch": "issuer mismatch: the trusted issuer configured in Oracle is not "
                       "{issuer!r}; it must match exactly (Oracle's setup guide, step 9.3)",
    "unknown_x5t": "certificate not uploaded: Oracle has no inbound public certificate "
                   "matching our key; upload the .cer from `lmsbridge oracle keygen` "
                   "(Oracle's setup guide, steps 9.5-9.6)",
    "missing_x5t": "certificate not uploaded: the token names no certificate (x5t)",
    "bad_signature": "the uploaded certificate does not match our private key: upload the "
                     ".cer from the latest `lmsbridge oracle keygen` (Oracle's setup guide, step 9.6)",
    "certificate_expired": "the uploaded certificate has expired: run `lmsbridge oracle "
                           "keygen --force` and upload the new .cer",
    "unknown_user": "user {username!r} does not exist in Oracle (Oracle's setup guide, step 6)",
    "missing_role": "missing role: user {username!r} lacks the Learning Content Provider duty "
                    "role (Oracle's setup guide, steps 5-6)",
    "expired": "the token was refused as expired: check this machine's clock",
}


def explain(err: OracleError, options: OracleOptions) -> str:
    """One line naming what failed, in the setup guide's words where we can tell."""
    words = {"issuer": options.issuer, "username": options.username}
    if err.code in _BY_CODE:
        return _BY_CODE[err.code].format(**words)
    if err.status == 401:
        return ("authentication failed (Oracle does not say why): the trusted issuer does not "
                "match {issuer!r}, the certificate is not uploaded, or user {username!r} is "
                "unknown; IP restrictions or LBAC on the job role cause this too (Oracle's setup guide, step 5)"
                ).format(**words)
    if err.status == 403:
        return ("access denied: user {username!r} probably lacks the Learning Content Provider "
                "duty role, or IP restrictions/LBAC block this address (Oracle's setup guide, step 5)"
                ).format(**words)
    return str(err)
