"""The priority groups (lansia, balita, disabilitas, hamil, sakit): the one list.

Bookings, walk-ins, the simulator, the API description, the kiosk and counter screens
and the printed ticket all read it. `label_id`/`label_en` are the short words printed on
a ticket; `name_en` is the longer English source the screens show, translated to
Indonesian through the message catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PriorityGroup:
    code: str
    label_id: str
    label_en: str
    name_en: str


ELDERLY = "lansia"
SMALL_CHILD = "balita"
DISABILITY = "disabilitas"
PREGNANT = "hamil"
SICK = "sakit"

GROUPS: tuple[PriorityGroup, ...] = (
    PriorityGroup(ELDERLY, "Lansia", "Elderly", "Elderly (60 or older)"),
    PriorityGroup(SMALL_CHILD, "Balita", "Small child", "Child aged 5 or under"),
    PriorityGroup(DISABILITY, "Disabilitas", "Disability", "Person with a disability"),
    PriorityGroup(PREGNANT, "Ibu hamil", "Pregnant", "Pregnant woman"),
    PriorityGroup(SICK, "Sakit", "Sick", "Sick"),
)
PRIORITY_GROUPS: tuple[str, ...] = tuple(group.code for group in GROUPS)
BY_CODE: dict[str, PriorityGroup] = {group.code: group for group in GROUPS}
# The screens' names (English source) per code.
SCREEN_NAMES: dict[str, str] = {group.code: group.name_en for group in GROUPS}
