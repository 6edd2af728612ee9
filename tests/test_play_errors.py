"""Mistakes a new user makes with `advgrasp play`: every option is checked before a session is
stored, so a typo locks no participant out; a stored session that cannot run has a way out."""

import pygame
import pytest
from conftest import cli_fails as fails
from test_play_support import make_study

from advgrasp.cli import main
from advgrasp.human.errors import SessionError
from advgrasp.human.session import run_session
from advgrasp.study.store import StudyStore


@pytest.mark.parametrize("option, message", [
    (["--trials", "0"], "--trials 0: give at least 1 trial"),
    (["--time-limit", "nan"], "--time-limit nan: give a positive number of seconds"),
    (["--time-limit", "-3"], "--time-limit -3.0: give a positive number"),
    (["--checkpoint", "{tmp}/no/such/path"], "starting checkpoint {tmp}/no/such/path"),
    (["--objects", "unicorn"], "objects ['unicorn'] are not in object set 'assets'"),
])
def test_bad_play_options_store_no_session(tmp_path, capsys, option, message):
    make_study(tmp_path).close()
    study = tmp_path / "study.sqlite"
    option = [o.format(tmp=tmp_path.as_posix()) for o in option]
    fails(["play", study, "--participant", "P01", "--headless", *option], capsys,
          message.format(tmp=tmp_path.as_posix()))
    with StudyStore.open(study) as store:
        assert store.sessions() == []


def test_a_stored_session_that_cannot_run_points_to_end_session(tmp_path, capsys):
    store = make_study(tmp_path)
    settings = store.session_settings("P01", "human")
    session = store.start_session("P01", "human", {**settings, "objects": ["unicorn"]})
    with pytest.raises(SessionError, match=f"session {session} of P01 was stored with settings "
                       f"that cannot run .*study end-session .*study.sqlite {session}"):
        run_session(store, "P01")
    store.close()
    assert main(["study", "end-session", str(tmp_path / "study.sqlite"), str(session),
                 "--reason", "objects mistyped"]) == 0
    with StudyStore.open(tmp_path / "study.sqlite") as store:
        fresh = store.start_session("P01", "human", store.session_settings("P01", "human"))
        assert fresh == session + 1
        assert store.session(session)["status"] == "aborted"


@pytest.mark.parametrize("option, message", [
    (["--size", "10x10"], "--size '10x10' is too small: give at least 480x300"),
    (["--render", "0x0"], "--render '0x0' is too small: give at least 32x24"),
    (["--seed", "-4"], "--seed -4: give a seed >= 0"),
    (["--speed", "nan"], "--speed nan: give a number >= 0"),
    (["--speed", "-1"], "--speed -1.0: give a number >= 0"),
])
def test_bad_screenshot_options_are_refused(tmp_path, capsys, option, message):
    shot = tmp_path / "shot.png"
    fails(["play", "--headless", "--screenshot", shot, *option], capsys, message)
    assert not shot.exists()


def test_screenshot_into_a_folder_is_refused(tmp_path, capsys):
    fails(["play", "--headless", "--screenshot", tmp_path], capsys,
          f"--screenshot {tmp_path} must name a .png file, such as {tmp_path / 'session.png'}")


def test_no_display_is_said_instead_of_waiting(tmp_path, capsys, monkeypatch):
    make_study(tmp_path).close()
    monkeypatch.setenv("SDL_VIDEODRIVER", "offscreen")  # what SDL picks with no display
    pygame.display.quit()
    try:
        fails(["play", tmp_path / "study.sqlite", "--participant", "P01"], capsys,
              "pygame found no display to show the session on (SDL video driver 'offscreen'")
    finally:
        pygame.display.quit()
    with StudyStore.open(tmp_path / "study.sqlite") as store:
        assert store.sessions() == []
