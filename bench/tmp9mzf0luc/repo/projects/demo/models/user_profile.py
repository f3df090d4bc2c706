"""The demo's custom user profile: what a demo user tells about themselves besides login and password.

generic-users validates ``req.mia.user_service["userProfileData"]`` with this model and stores it
in the user document under ``profile.demo`` (the route group is the app id), so the model needs
no collection of its own.
"""
from datetime import datetime

from core import BaseModel


class DemoUserProfileModel(BaseModel):
    identity = "demo-userProfile-model"
    version = "1.0"
    data = {
        "name": {"type": str, "required": True, "minLength": 1, "maxLength": 100},
        "phone": {"type": str, "match": r"^\+?[0-9][0-9 ()/-]{3,19}$"},
        "createdAt": {"type": datetime},
        "updatedAt": {"type": datetime},
    }
