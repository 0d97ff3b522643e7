"""Tracker voting and the event rule, driven by hand-made reads and an injected clock."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from anpr_edge.core.plates import DIGITS, LETTERS
from anpr_edge.core.results import Box, Detection, PlateEvent, PlateRead
from anpr_edge.inference.ocr import CharThresholds
from anpr_edge.recognition.direction import Point, direction
from anpr_edge.recognition.events import EventConfig, EventGate, compatible
from anpr_edge.recognition.tracking import Tracker, TrackerConfig, read_distance

ALPHABET = DIGITS + LETTERS
THR = CharThresholds(0.5, 0.5)


def read(
    text: str, box: tuple[float, float, float, float], p: float = 0.95, weak: dict[int, tuple[str, float]] | None = None
) -> PlateRead:
    probs = np.full((len(text), len(ALPHABET)), 0.0, np.float32)
    for i, c in enumerate(text):
        probs[i, ALPHABET.index(c)] = p
        probs[i, (ALPHABET.index(c) + 1) % len(ALPHABET)] = 1 - p
    for i, (c, q) in (weak or {}).items():
        probs[i] = 0.0  # unsure: the right class only q, a rival close behind
        probs[i, ALPHABET.index(c)] = q * 0.8
        probs[i, ALPHABET.index(text[i])] = q
    chars = tuple((text[i], float(probs[i].max())) for i in range(len(text)))
    return PlateRead(text, chars, probs, Detection(box, 0.9))


def box_at(x: float) -> tuple[float, float, float, float]:
    return (x, 100.0, x + 120.0, 130.0)


def make(cfg: EventConfig | None = None, max_misses: int = 2) -> tuple[Tracker, EventGate]:
    ids = itertools.count(1)
    return (
        Tracker(TrackerConfig(0.3, max_misses)),
        EventGate(cfg or EventConfig(), "cam", ALPHABET, THR, new_id=lambda: f"e{next(ids)}"),
    )


def step(tr: Tracker, gate: EventGate, reads: list[PlateRead], t: float) -> list[str]:
    ended = tr.update([r.detection for r in reads], reads, t)
    return [e.plate for e in gate.update(tr.tracks, ended, t, (1920, 1080))]


def test_one_car_moving_gives_one_early_event() -> None:
    tr, gate = make()
    out = []
    for i in range(20):
        out += step(tr, gate, [read("A123BC77", box_at(10 * i))], i * 0.04)
    out += step(tr, gate, [], 1.0) + step(tr, gate, [], 1.1) + step(tr, gate, [], 1.2)
    assert out == ["A123BC77"]


def test_early_event_after_min_reads_with_first_seen_time() -> None:
    tr, gate = make(EventConfig(min_reads=3))
    assert step(tr, gate, [read("A123BC77", box_at(0))], 5.0) == []
    assert step(tr, gate, [read("A123BC77", box_at(2))], 5.04) == []
    ended = tr.update(
        [box_read.detection for box_read in [read("A123BC77", box_at(4))]], [read("A123BC77", box_at(4))], 5.08
    )
    events = gate.update(tr.tracks, ended, 5.08, (1920, 1080))
    assert [e.plate for e in events] == ["A123BC77"]
    assert events[0].first_seen == 5.0 and events[0].reads == 3 and not events[0].partial


def test_voting_outweighs_a_single_misread() -> None:
    tr, gate = make(EventConfig(min_reads=100))  # only at track end
    reads = [read("A123BC77", box_at(i)) for i in range(4)]
    reads.insert(2, read("A128BC77", box_at(2)))
    for i, r in enumerate(reads):
        step(tr, gate, [r], i * 0.04)
    out = []
    for k in range(4):
        out += step(tr, gate, [], 1 + k * 0.04)
    assert out == ["A123BC77"]


def test_unsure_position_becomes_hash_and_event_is_partial() -> None:
    tr, gate = make(EventConfig(min_reads=100))
    for i in range(3):
        step(tr, gate, [read("A123BC77", box_at(i), weak={3: ("8", 0.45)})], i * 0.04)
    ended = tr.close_all()
    events = gate.update([], ended, 1.0, (1920, 1080))
    assert events[0].plate == "A12#BC77" and events[0].partial


def test_standing_car_for_ten_seconds_is_one_event() -> None:
    tr, gate = make()
    out = []
    for i in range(250):
        out += step(tr, gate, [read("A123BC77", box_at(500))], i * 0.04)
    assert out == ["A123BC77"]


def test_same_plate_not_repeated_within_repeat_window_even_if_track_breaks() -> None:
    tr, gate = make(EventConfig(repeat_window_s=10.0), max_misses=0)
    out = []
    for i in range(5):
        out += step(tr, gate, [read("A123BC77", box_at(0))], i * 0.04)
    out += step(tr, gate, [], 0.3)  # track ends
    for i in range(5):  # re-acquired: a new track with a compatible partial read
        out += step(tr, gate, [read("A123BC77", box_at(0), weak={2: ("5", 0.4)})], 0.4 + i * 0.04)
    out += step(tr, gate, [], 1.0)
    assert out == ["A123BC77"]
    assert gate.suppressed == 1


def test_dedup_window_200ms_blocks_identical_plate_from_two_tracks() -> None:
    """The 200 ms rule alone (the pass rules off): the same plate never twice within the window, anywhere."""
    tr, gate = make(EventConfig(min_reads=1, repeat_window_s=0.0, pass_gap_s=0.0, dedup_window_ms=200))
    out = step(tr, gate, [read("A123BC77", box_at(0)), read("A123BC77", box_at(1000))], 0.0)
    assert out == ["A123BC77"]
    tr2, gate2 = make(EventConfig(min_reads=1, repeat_window_s=0.0, pass_gap_s=0.0, dedup_window_ms=200))
    assert step(tr2, gate2, [read("A123BC77", box_at(0))], 0.0) == ["A123BC77"]
    step(tr2, gate2, [], 0.1)
    step(tr2, gate2, [], 0.15)
    step(tr2, gate2, [], 0.19)
    assert step(tr2, gate2, [read("A123BC77", box_at(0))], 0.25) == ["A123BC77"]


def test_fast_car_at_low_frame_rate_stays_one_track() -> None:
    tr, gate = make(EventConfig(min_reads=100))
    for i in range(4):  # moves 90 px per processed frame: IoU 0 between frames, but a plausible jump
        step(tr, gate, [read("A123BC77", box_at(90 * i))], i * 0.3)
    assert len(tr.tracks) == 1 and tr.tracks[0].reads == 4


def test_the_next_car_where_the_last_one_left_is_a_new_track_and_event() -> None:
    """At a low frame rate a track outlives its car (max_misses frames); the next car, close enough for a
    plausible jump, must not be glued to it (its event was already sent: the car would never be)."""
    tr, gate = make(max_misses=5)
    out = []
    for i in range(6):
        out += step(tr, gate, [read("X623EM199", box_at(10 * i))], i * 0.125)
    out += step(tr, gate, [], 0.75) + step(tr, gate, [], 0.875)  # the car has gone; its track has not
    for i in range(6):
        out += step(tr, gate, [read("E014CX86", box_at(150 + 2 * i))], 1.0 + i * 0.125)
    assert out == ["X623EM199", "E014CX86"]


def test_a_misread_or_a_shifted_read_stays_on_its_track() -> None:
    tr, gate = make(EventConfig(min_reads=100))
    for i, text in enumerate(["A123BC77", "A128BC77", "AA123BC77", "A12#B#77", "A123BC777"]):
        r = dataclasses.replace(read(text.replace("#", "0"), box_at(90 * i)), text=text)
        step(tr, gate, [r], i * 0.3)  # jumps only: the read decides
    assert len(tr.tracks) == 1 and tr.tracks[0].reads == 5


def test_a_bad_read_on_the_track_does_not_split_it_at_the_next_good_one() -> None:
    """H128EC77 (3 edits off) joins the track; A123BC71 is 4 edits from it but 1 from the reads before."""
    tr, gate = make(EventConfig(min_reads=100))
    for i, text in enumerate(["A123BC77", "A123BC77", "H128EC77", "A123BC71", "A123BC77"]):
        step(tr, gate, [read(text, box_at(90 * i))], i * 0.3)
    assert len(tr.tracks) == 1 and tr.tracks[0].reads == 5


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [
        ("A123BC77", "A123BC77", 0),
        ("A1#3BC77", "A123BC77", 0),
        ("T046YC98", "CT046AC93", 3),
        ("X623EM199", "E014CX86", 9),
    ],
)
def test_read_distance(a: str, b: str, edits: int) -> None:
    assert read_distance(a, b) == read_distance(b, a) == edits


def test_two_cars_side_by_side_are_two_events() -> None:
    tr, gate = make()
    out = []
    for i in range(10):
        out += step(tr, gate, [read("A123BC77", box_at(10 * i)), read("K777KK777", box_at(900 - 10 * i))], i * 0.04)
    assert sorted(out) == ["A123BC77", "K777KK777"]


def test_one_frame_ghost_track_gives_no_event() -> None:
    tr, gate = make(EventConfig(min_reads=100))
    step(tr, gate, [read("X123BC77", box_at(0))], 0.0)
    assert gate.update([], tr.close_all(), 1.0, (1920, 1080)) == []


def test_a_worse_read_of_the_same_pass_is_suppressed_another_place_is_another_pass() -> None:
    """The plate found again where it was lost, half a second later, reading one character fewer: the same
    pass, nothing new to say. A similar plate far across the frame at the same time: another vehicle."""
    tr, gate = make(EventConfig(min_reads=2), max_misses=0)
    out = step(tr, gate, [read("K777KK777", box_at(0))], 0.0) + step(tr, gate, [read("K777KK777", box_at(0))], 0.04)
    step(tr, gate, [], 0.08)
    for i, text in enumerate(["K777KK77", "K777KK77", "X777KK777", "X777KK777"]):
        out += step(tr, gate, [read(text, box_at(0 if i < 2 else 900))], 0.5 + i * 0.04)
    out += step(tr, gate, [], 1.0) + step(tr, gate, [], 1.1)
    assert out == ["K777KK777", "X777KK777"] and gate.suppressed >= 1


def test_track_without_enough_known_chars_gives_no_event() -> None:
    tr, gate = make(EventConfig(min_reads=100))
    weak = {i: ("0" if i in (1, 2, 3, 6, 7) else "A", 0.3) for i in range(4)}  # only 4 of 8 read
    for i in range(3):
        step(tr, gate, [read("A123BC77", box_at(0), weak=weak)], i * 0.04)
    assert gate.update([], tr.close_all(), 1.0, (1920, 1080)) == []


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [("A123BC77", "A12#BC77", True), ("A123BC77", "A124BC77", False), ("A123BC77", "A123BC777", False)],
)
def test_compatible(a: str, b: str, ok: bool) -> None:
    assert compatible(a, b) is ok


def events_of(tr: Tracker, gate: EventGate, reads: list[PlateRead], t: float) -> list[PlateEvent]:
    ended = tr.update([r.detection for r in reads], reads, t)
    return gate.update(tr.tracks, ended, t, (1920, 1080))


def test_a_better_read_of_the_same_pass_is_an_update_with_the_same_event_id() -> None:
    """The car is lost with two characters unsure (event at its end, partial), then found again where it was
    lost and read whole: one pass, so the full plate goes out as an update of the same event."""
    tr, gate = make(max_misses=1)
    weak = {1: ("7", 0.4), 2: ("8", 0.4)}
    out = [e for i in range(3) for e in events_of(tr, gate, [read("A123BC77", box_at(10 * i), weak=weak)], i * 0.1)]
    out += events_of(tr, gate, [], 0.3) + events_of(tr, gate, [], 0.4)
    assert [(e.plate, e.type) for e in out] == [("A##3BC77", "new")]
    for i in range(3):
        out += events_of(tr, gate, [read("A123BC77", box_at(30 + 10 * i))], 1.0 + i * 0.1)
    assert [(e.plate, e.type) for e in out] == [("A##3BC77", "new"), ("A123BC77", "update")]
    assert out[0].event_id == out[1].event_id and out[1].first_seen == out[0].first_seen


def test_junk_after_a_car_leaves_is_not_a_new_event() -> None:
    """A car read right, then found again as it leaves, smaller and mostly unread: no second event."""
    tr, gate = make(max_misses=1)
    out = [e for i in range(4) for e in events_of(tr, gate, [read("E111TT123", box_at(10 * i))], i * 0.1)]
    out += events_of(tr, gate, [], 0.4) + events_of(tr, gate, [], 0.5)
    junk = {0: ("E", 0.3), 1: ("1", 0.3), 6: ("1", 0.3)}
    for i in range(3):
        out += events_of(tr, gate, [read("X911TT523", box_at(60 + 10 * i), weak=junk)], 0.8 + i * 0.1)
    out += events_of(tr, gate, [], 1.2) + events_of(tr, gate, [], 1.3)
    assert [e.plate for e in out if e.type == "new"] == ["E111TT123"]


def test_two_cars_with_the_same_plate_three_seconds_apart_are_two_passes() -> None:
    tr, gate = make(max_misses=1)
    out: list[PlateEvent] = []
    for car in range(2):
        t0 = 3.0 * car
        for i in range(8):  # each enters at x=0 and drives 60 px a frame across the lane
            out += events_of(tr, gate, [read("K777KK777", box_at(60 * i))], t0 + i * 0.1)
        out += events_of(tr, gate, [], t0 + 0.9) + events_of(tr, gate, [], t0 + 1.0)
    new = [e for e in out if e.type == "new"]
    assert [e.plate for e in new] == ["K777KK777", "K777KK777"] and new[0].event_id != new[1].event_id


def test_a_square_plate_is_reported_unread_as_two_row() -> None:
    tr, gate = make(max_misses=1)
    det = Detection((100.0, 100.0, 160.0, 140.0), 0.9)
    square = PlateRead("#" * 8, (("#", 0.0),) * 8, np.zeros((8, len(ALPHABET)), np.float32), det, "two-row")
    out = [e for i in range(4) for e in events_of(tr, gate, [square], i * 0.1)]
    out += events_of(tr, gate, [], 0.5) + events_of(tr, gate, [], 0.6)
    assert [(e.plate, e.format, e.partial) for e in out] == [("########", "two-row", True)]


@pytest.mark.parametrize(
    ("first", "last", "line", "way"),
    [
        ((0, 0, 100, 20), (0, 0, 130, 26), None, "approaching"),
        ((0, 0, 130, 26), (0, 0, 100, 20), None, "departing"),
        ((0, 0, 100, 20), (0, 0, 105, 21), None, None),
        ((0, 0, 100, 20), (0, 200, 100, 220), ((-50, 100), (500, 100)), "in"),  # down across a line drawn left to right
        ((0, 200, 100, 220), (0, 0, 100, 20), ((-50, 100), (500, 100)), "out"),
        ((0, 0, 100, 20), (0, 40, 100, 60), ((-50, 100), (500, 100)), None),  # did not cross
    ],
)
def test_direction(first: Box, last: Box, line: tuple[Point, Point] | None, way: str | None) -> None:
    assert direction(first, last, line, 1.15) == way


def test_the_end_of_a_pass_updates_its_event_with_the_direction() -> None:
    tr, gate = make(max_misses=1)
    out: list[PlateEvent] = []
    for i in range(8):  # the plate grows from 120 to 148 px: unknown at the first event, approaching at the end
        out += events_of(tr, gate, [read("A123BC77", (100.0, 100.0, 220.0 + 4 * i, 130.0 + i))], i * 0.1)
    out += events_of(tr, gate, [], 0.9) + events_of(tr, gate, [], 1.0)
    assert [(e.type, e.direction) for e in out] == [("new", None), ("update", "approaching")]
