"""User management payloads: GET/POST/PATCH /api/users."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from app.schemas.common import PYTHON_WHITESPACE, CamelInput, CamelModel, Text, UtcTime

Role = Literal["ADMIN", "USER"]
# What app/services/users.py accepts: one @ between non-blank parts (surrounding blanks stripped).
_BLANK = f"[{PYTHON_WHITESPACE}]"
_PART = f"[^@{PYTHON_WHITESPACE}]+"
EMAIL_PATTERN = f"^{_BLANK}*{_PART}@{_PART}{_BLANK}*$"


class NewUser(CamelInput):
    """A user to create (admins)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ayse@example.com",
                    "password": "long-password",
                    "name": "Ayşe",
                    "role": "USER",
                }
            ]
        }
    )

    email: Annotated[
        str,
        Field(min_length=3, max_length=255, pattern=EMAIL_PATTERN, examples=["ayse@example.com"]),
    ]
    password: str = Field(min_length=8, max_length=200, description="At least 8 characters")
    name: Text(255, strip=True, examples=["Ayşe Yılmaz"])
    role: Role = "USER"


class UserChange(CamelInput):
    """What PATCH /api/users/<id> may change; deactivating cuts the user's sockets."""

    model_config = ConfigDict(
        json_schema_extra={
            "minProperties": 1,
            "examples": [{"isActive": False}, {"name": "Ayşe K."}],
        }
    )

    name: Text(255, strip=True) | None = None
    is_active: bool | None = Field(None, strict=True)
    role: Role | None = None


class UserAccount(CamelModel):
    """A user as admins see it."""

    id: int = Field(examples=[7])
    email: str = Field(examples=["ayse@example.com"])
    name: str = Field(examples=["Ayşe Yılmaz"])
    role: Role
    is_active: bool
    created_at: UtcTime

    @classmethod
    def of(cls, user) -> "UserAccount":
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            is_active=user.is_active,
            created_at=user.created_at,
        )


class Colleague(CamelModel):
    """An admin as agents see them: id and name only."""

    id: int
    name: str

    @classmethod
    def of(cls, user) -> "Colleague":
        return cls(id=user.id, name=user.name)


class OnlineUsers(CamelModel):
    """Which of the users the caller may see have a live socket."""

    online_user_ids: list[int]
