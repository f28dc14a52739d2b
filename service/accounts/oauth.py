"""GitHub's web sign-in flow: Authlib's OAuth 2 building blocks over our httpx client."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.errors import MismatchingStateException, OAuth2Error
from authlib.oauth2.rfc6749.parameters import (
    parse_authorization_code_response,
    prepare_grant_uri,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge

SCOPES = "read:user user:email read:org"


class SignInError(Exception):
    """The sign-in could not complete; `message` is safe to show to the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


class GitHubOAuth:
    def __init__(
        self, client: httpx.Client, web_url: str, client_id: str, client_secret: str
    ) -> None:
        self._client = client
        self._web_url = web_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret

    def begin(self, redirect_uri: str) -> AuthorizationRequest:
        """Where to send the browser, with a fresh state and PKCE verifier to remember."""
        state = generate_token(32)
        verifier = generate_token(64)
        url = prepare_grant_uri(
            f"{self._web_url}/login/oauth/authorize",
            client_id=self._client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=SCOPES,
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier)

    def finish(
        self,
        callback_url: str,
        args: dict[str, str],
        request: AuthorizationRequest | None,
        redirect_uri: str,
    ) -> str:
        """Check the callback and exchange its code for an access token."""
        if request is None:
            raise SignInError(
                "no_pending_signin", "This sign-in link has expired. Please sign in again."
            )
        if args.get("error"):
            if args["error"] == "access_denied":
                raise SignInError("cancelled", "You cancelled the sign-in on GitHub.")
            raise SignInError(
                "provider_error",
                f"GitHub refused the sign-in: {args.get('error_description') or args['error']}.",
            )
        try:
            params = parse_authorization_code_response(callback_url, state=request.state)
        except MismatchingStateException:
            raise SignInError(
                "state_mismatch",
                "The sign-in answer did not match the request we sent (state mismatch). "
                "Please sign in again.",
            ) from None
        except OAuth2Error:
            raise SignInError(
                "missing_code", "GitHub's answer had no authorization code."
            ) from None
        return self._exchange(params["code"], request.code_verifier, redirect_uri)

    def _exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        try:
            response = self._client.post(
                f"{self._web_url}/login/oauth/access_token",
                data={
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError:
            raise SignInError(
                "github_unreachable", "GitHub could not be reached. Please try again shortly."
            ) from None
        try:
            payload = response.json() if response.status_code == 200 else {}
        except ValueError:
            payload = {}
        token = payload.get("access_token")
        if not token:
            detail = payload.get("error_description") or f"status {response.status_code}"
            raise SignInError(
                "token_exchange_failed", f"GitHub did not issue a sign-in token ({detail})."
            )
        return token
