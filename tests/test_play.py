"""The pygame session, headless: SDL's dummy drivers and scripted input events."""

import numpy as np
import pygame
import pytest
from test_play_support import FAST, Participant, make_study

from advgrasp.human.controls import PushChoice
from advgrasp.human.errors import SessionError
from advgrasp.human.session import run_session
from envs.perturbation import PerturbationSet

ALLOWED = PerturbationSet().all  # six directions at 32 N and 36 N


def test_keys_choose_and_confirm_only_allowed_pushes():
    choice = PushChoice(ALLOWED)
    assert not choice.key(pygame.K_RETURN)  # nothing chosen yet: no confirmation
    choice.key(pygame.K_UP)
    choice.key(pygame.K_2)
    assert choice.key(pygame.K_RETURN)
    assert (choice.perturbation.direction, choice.perturbation.magnitude_n) == ("forward", 36.0)
    choice.key(pygame.K_9)  # no ninth level: ignored
    assert choice.level == 2
    choice.key(pygame.K_s)
    assert choice.perturbation.direction == "down"
    choice.key(pygame.K_BACKSPACE)
    assert choice.perturbation is None


def test_drags_snap_to_the_nearest_drawn_direction_and_a_level():
    arrows = {"right": np.array([1.0, 0.0]), "left": np.array([-1.0, 0.0]),
              "up": np.array([0.0, -1.0]), "down": np.array([0.0, 1.0]),
              "forward": np.array([0.7071, -0.7071]), "backward": np.array([-0.7071, 0.7071])}
    choice = PushChoice(ALLOWED)
    assert not choice.drag((100, 100), (105, 103), arrows, full_drag_px=160)  # a click
    assert choice.perturbation is None
    assert choice.drag((100, 100), (160, 85), arrows, full_drag_px=160)  # 14 deg above right
    assert (choice.direction, choice.level) == ("right", 1)
    assert choice.drag((100, 100), (210, -10), arrows, full_drag_px=160)  # 45 deg, 156 px
    assert (choice.direction, choice.level) == ("forward", 2)
    choice.drag((100, 100), (100, 400), arrows, full_drag_px=160)  # past full: strongest
    assert choice.perturbation.direction == "down" and choice.perturbation.magnitude_n == 36.0


def test_scripted_session_logs_every_trial(tmp_path):
    store = make_study(tmp_path)
    person = Participant(pause_at=2, resize_to=(800, 560))
    result = run_session(store, "P01", adversary_input=person, options=FAST)

    assert result["status"] == "finished"
    trials = store.finished_trials(result["session_id"])
    assert [(t["practice"], t["index"]) for t in trials] == [
        (True, 0), (False, 0), (False, 1), (False, 2), (False, 3)]
    lifted = [t for t in trials if t["r_r"]]
    assert len(lifted) >= 2, "no two lifted trials: pick another study seed in the support"
    assert [t["perturbation"] for t in lifted] == person.pushed
    assert {"left_36N", "up_36N"} <= set(person.pushed)  # keys and a drag both used
    for t in trials:
        if t["r_r"]:
            assert 0 < t["reaction_time_s"] < 10.0
            assert t["monotonic_start"] < t["monotonic_end"]
        else:
            assert t["perturbation"] is None and t["reaction_time_s"] is None
            assert t["r_h"] == 0.0
        assert t["reward"] == t["r_r"] - t["r_h"]
        assert t["object"] == "can"
    # Practice is not learned from; each scored trial adds four learning rounds.
    assert [t["model_version"] for t in trials] == [0, 0, 4, 8, 12]
    assert result["score"].robot + result["score"].person + result["score"].missed == 4

    answers = store.rows("SELECT item_id, value FROM answers")
    assert len(answers) == 5 and {a["value"] for a in answers} == {5}
    assert store.session(result["session_id"])["status"] == "finished"
    assert person.phases[0] == "consent" and "pause" in person.phases
    assert person.texts["consent"] == ("Before you start", "Test consent: press Enter.")
    assert "Robot " in person.texts["done"][1]
    assert set(person.sizes) == {(800, 560)}  # the resize took, and drags used it
    assert len(result["frame_times"]) > 50


def test_time_limit_logs_no_perturbation(tmp_path):
    store = make_study(tmp_path, trials=1, practice=1, time_limit=0.2)
    person = Participant(push=False)
    result = run_session(store, "P01", adversary_input=person, options=FAST)

    trials = store.finished_trials(result["session_id"])
    assert result["status"] == "finished" and len(trials) == 2
    assert trials[0]["r_r"] == 1.0, "the practice grasp no longer lifts: pick another seed"
    assert all(t["perturbation"] is None and t["reaction_time_s"] is None for t in trials)
    assert all(t["r_h"] == 0.0 for t in trials)
    assert "choose" in person.phases


def test_a_condition_without_a_person_is_refused(tmp_path):
    store = make_study(tmp_path)
    with pytest.raises(SessionError, match="'control' has adversary 'random'.*simulate"):
        run_session(store, "P01", condition="control", adversary_input=Participant(),
                    options=FAST)


def test_cli_saves_a_screenshot_and_names_missing_arguments(tmp_path, capsys):
    from advgrasp.cli import main

    shot = tmp_path / "shot.png"
    assert main(["play", "--headless", "--speed", "0", "--objects", "can", "--screenshot",
                 str(shot), "--size", "640x400"]) == 0
    image = pygame.image.load(str(shot))
    assert image.get_size() == (640, 400)
    assert main(["play", "--participant", "P01"]) == 2
    assert "needs the study file" in capsys.readouterr().err
    assert main(["play", "--screenshot", str(shot), "--size", "big"]) == 2
    assert "size 'big': write it as WIDTHxHEIGHT" in capsys.readouterr().err


def test_drawing_during_the_physics_changes_no_outcome():
    from advgrasp.human.settings import SessionSettings
    from advgrasp.human.trials import TrialRunner
    from advgrasp.human.view import SceneCamera

    rows = {}
    for drawn in (False, True):
        runner = TrialRunner(SessionSettings(objects=("can", "mug"), trials=4,
                                             practice_trials=0, seed=9, updates_per_trial=1))
        if drawn:
            steps, world = [], runner.world

            def draw(dt_s, world=world, steps=steps):
                steps.append(dt_s)
                if len(steps) % 8 == 0:  # as a window playing at 30 frames per second
                    SceneCamera().render(world, 64, 48)

            world.on_step = draw
        try:
            while not runner.finished:
                held = runner.begin()
                runner.push(runner.allowed[3] if held.lifted else None, 0.5)
                rows.setdefault(drawn, []).append(runner.world.object_position.round(9))
        finally:
            runner.close()
    assert np.array_equal(np.array(rows[False]), np.array(rows[True]))
