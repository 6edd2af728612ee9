"""The questionnaire in the window: one Likert item per screen, answered by keys or clicks."""

from __future__ import annotations

import pygame

from advgrasp.human.view import draw_likert, likert_boxes
from advgrasp.human.window import SessionWindow


def ask_questionnaire(window: SessionWindow, questionnaire: dict) -> dict[str, int]:
    """Ask every Likert item; returns item id -> chosen scale point."""
    window.phase = "questionnaire"
    scale, answers = questionnaire["scale"], {}
    low, high = scale["min"], scale["max"]
    for index, item in enumerate(questionnaire["items"]):
        selected = None
        while item["id"] not in answers:
            for event in window.events():
                if event.type == pygame.KEYDOWN:
                    number = event.key - pygame.K_0
                    if low <= number <= high and number <= 9:
                        selected = number
                    elif event.key in (pygame.K_LEFT, pygame.K_RIGHT):
                        step = -1 if event.key == pygame.K_LEFT else 1
                        start = (low + high) // 2 if selected is None else selected + step
                        selected = min(high, max(low, start))
                    elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE) \
                            and selected is not None:
                        answers[item["id"]] = selected
                elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                    boxes = likert_boxes(window.painter, high - low + 1,
                                         window.surface.get_size())
                    hits = [low + i for i, box in enumerate(boxes)
                            if box.collidepoint(event.pos)]
                    selected = hits[0] if hits else selected
            window.check_closed()
            draw_likert(window.surface, window.painter, questionnaire, index, selected)
            window.flip()
    return answers
