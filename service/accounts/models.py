"""People who sign in. Identity is GitHub's numeric id: logins change, ids do not."""

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    github_id: int = Field(sa_column=Column(BigInteger, unique=True, index=True, nullable=False))
    login: str = Field(max_length=39, index=True)
    name: str | None = Field(default=None, max_length=255)
    avatar_url: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=320)
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # Part of every session cookie; sign-out raises it, which ends every session issued
    # before on the server side (a copied cookie stops working).
    session_version: int = 0
    # Fernet-encrypted OAuth token, kept only for background work the user started
    # (GitHub dependency-graph import); never logged, never put in a cookie.
    github_token_encrypted: str | None = Field(default=None, max_length=1000)
