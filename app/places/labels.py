"""Names of categories, wheelchair grades and accessibility features as people read them."""

from __future__ import annotations

from app.kit.i18n import N_
from app.kit.i18n import gettext as _
from app.places.models import Category

CATEGORY_LABELS: dict[str, str] = {
    Category.sights: N_("Sights and viewpoints"),
    Category.nature: N_("Nature"),
    Category.culture: N_("Culture and heritage"),
    Category.accommodation: N_("Places to stay"),
    Category.food: N_("Food and drink"),
    Category.shopping: N_("Markets and shops"),
    Category.transport: N_("Transport"),
    Category.health: N_("Health: hospitals, clinics, pharmacies"),
    Category.education: N_("Schools and colleges"),
    Category.government: N_("Government offices and one-stop centres"),
    Category.finance: N_("Banks and ATMs"),
    Category.toilets: N_("Public toilets"),
    Category.emergency: N_("Police, fire and rescue"),
}

WHEELCHAIR_LABELS: dict[str, str] = {
    "yes": N_("Wheelchair accessible"),
    "limited": N_("Partly wheelchair accessible"),
    "no": N_("Not wheelchair accessible"),
}

FEATURE_LABELS: dict[str, str] = {
    "step_free_entrance": N_("Step-free entrance"),
    "accessible_toilet": N_("Accessible toilet"),
    "wheelchair_parking": N_("Parking for wheelchair users"),
    "tactile_guidance": N_("Tactile paving or guidance"),
    "hearing_loop": N_("Hearing loop"),
    "braille": N_("Braille"),
    "large_print": N_("Large print"),
    "audio_guide": N_("Audio guide"),
    "sign_language": N_("Staff who use sign language"),
    "assistance_dogs": N_("Assistance dogs welcome"),
}


def category_label(value: str) -> str:
    return _(CATEGORY_LABELS[value]) if value in CATEGORY_LABELS else value


def wheelchair_label(value: str | None) -> str:
    return (
        _(WHEELCHAIR_LABELS[value])
        if value in WHEELCHAIR_LABELS
        else _("Wheelchair access not known")
    )


def feature_label(name: str) -> str:
    return _(FEATURE_LABELS[name])
