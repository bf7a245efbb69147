"""One line a user can act on for each way a Bedrock call fails (boto3 and botocore errors).

The line names the model and region where that helps, says what to do, and never
includes a credential.
"""

from __future__ import annotations

import os
from typing import Any

from botocore import exceptions as boto_errors

from dcaf_cli import settings
from dcaf_cli.models.common import origin, server_message


def explain(exc: Exception, model_id: str, region: str | None, profile: str | None) -> str:
    """`bedrock: ...` for a ClientError (the service answered) or a BotoCoreError (it did not)."""
    if isinstance(exc, boto_errors.ClientError):
        return f"bedrock: {_client_error_line(exc, model_id, region or 'no region')}"
    return f"bedrock: {_core_error_line(exc, profile)}"


def streaming_unsupported(exc: Any) -> bool:
    """The service refused to stream this request (some models take tools only unstreamed)."""
    code, message = _code_and_message(exc)
    return code == "ValidationException" and "streaming" in message.lower()


def broken_stream(exc: Exception) -> str:
    """A stream that stopped part-way: urllib3's read errors, or a malformed event."""
    if "Timeout" in type(exc).__name__:
        return "bedrock: timed out waiting for the model — try again, or raise DCAF_TIMEOUT"
    return f"bedrock: the stream broke ({type(exc).__name__}) — try again"


# Error codes by what the user should do about them.
_CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "ExpiredTokenException",
    "ExpiredToken",
}
_THROTTLE_CODES = {
    "ThrottlingException",
    "TooManyRequestsException",
    "ServiceQuotaExceededException",
}
_RETRY_LATER_CODES = {
    "ServiceUnavailableException",
    "InternalServerException",
    "ModelNotReadyException",
    "ModelTimeoutException",
    "ModelErrorException",
    "ModelStreamErrorException",
}


def _code_and_message(exc: Any) -> tuple[str, str]:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "UnknownError")
    # Errors inside an event stream arrive as e.g. `throttlingException`.
    return code[:1].upper() + code[1:], str(error.get("Message") or "")


def _client_error_line(exc: Any, model_id: str, region: str) -> str:
    code, message = _code_and_message(exc)
    where = f"for model {model_id} in {region}"
    if code == "AccessDeniedException":
        return f"{code} {where} — check your AWS credentials/profile and the model's access"
    if code in _CREDENTIAL_CODES:
        return f"AWS rejected the credentials ({code}) — check your AWS credentials/profile"
    if code in _THROTTLE_CODES:
        return f"{code} {where} — wait a moment and try again, or raise your quota"
    if code in _RETRY_LATER_CODES:
        return f"{code} {where} — try again later"
    if code == "ResourceNotFoundException" or "model identifier is invalid" in message:
        detail = server_message(message)
        return f"unknown model id {model_id!r} in {region} — check the id and region ({detail})"
    return f"{code} {where}: {server_message(message)}"


def _core_error_line(exc: Exception, profile: str | None) -> str:
    if isinstance(exc, boto_errors.NoCredentialsError | boto_errors.PartialCredentialsError):
        return "no AWS credentials — set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID"
    if isinstance(exc, boto_errors.ProfileNotFound):
        return (
            f"AWS profile {profile or os.environ.get('AWS_PROFILE')!r} not found — check --profile"
        )
    if isinstance(exc, boto_errors.NoRegionError):
        return "no AWS region — set AWS_REGION or pass --region"
    if isinstance(exc, boto_errors.TokenRetrievalError | boto_errors.SSOError):
        return "the AWS SSO session is missing or expired — run `aws sso login`"
    if isinstance(exc, boto_errors.ReadTimeoutError):
        return "timed out waiting for the model — try again, or raise DCAF_TIMEOUT"
    if isinstance(exc, boto_errors.ConnectionError | boto_errors.HTTPClientError):
        endpoint = origin(str(exc.kwargs.get("endpoint_url", "")))
        fix = f"check your network, region or {settings.BEDROCK_ENDPOINT_URL}"
        return f"cannot reach {endpoint} — {fix}"
    return f"{type(exc).__name__}: {server_message(str(exc))}"
