"""Degrade clean plates the way real cameras do, and cut OCR crops the way the detector does.

Everything takes an explicit ``random.Random`` so a seed reproduces a sample exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import cv2
import numpy as np

from anpr_edge.training.render import char_boxes, render_plate


def style_plate(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Vary the printed plate: worn or yellowed field, ink weight, bolts."""
    out = img.astype(np.float32)
    tint = np.array([rng.uniform(0.75, 1.0), rng.uniform(0.8, 1.0), rng.uniform(0.8, 1.0)], np.float32)
    out *= tint
    k = rng.random()
    if k < 0.15:
        out = cv2.erode(out, np.ones((2, 2), np.uint8))  # bolder ink
    elif k < 0.65:
        kk = 2 if out.shape[0] < 100 else 3
        out = cv2.dilate(out, np.ones((kk, kk), np.uint8))  # thinner ink, as on most real plates
    h, w = out.shape[:2]
    if rng.random() < 0.6:  # bolts left and right of the main field
        for fx in (rng.uniform(0.02, 0.06), rng.uniform(0.70, 0.75)):
            cv2.circle(out, (int(fx * w), int(h * rng.uniform(0.4, 0.6))), max(1, h // 20), (120, 120, 120), -1)
    return np.clip(out, 0, 255).astype(np.uint8)


def random_background(h: int, w: int, rng: random.Random) -> np.ndarray:
    """Car-body-like surroundings: flat or gradient paint, noise, a few edges."""
    base = np.array([rng.randint(0, 255) for _ in range(3)], np.float32)
    if rng.random() < 0.5:
        base *= rng.uniform(0.0, 0.4)  # dark frames and bumpers are common
    grad = np.linspace(rng.uniform(0.6, 1.2), rng.uniform(0.6, 1.2), h, dtype=np.float32)[:, None, None]
    bg = np.broadcast_to(base, (h, w, 3)) * grad
    # Coarse noise drawn small and scaled up: texture without paying for h*w*3 normals.
    noise = np.random.default_rng(rng.randrange(2**31)).standard_normal((h // 4 + 1, w // 4 + 1, 3), np.float32)
    bg = bg + cv2.resize(noise, (w, h), interpolation=cv2.INTER_NEAREST) * rng.uniform(2, 15)
    for _ in range(rng.randint(0, 4)):
        p1 = (rng.randrange(w), rng.randrange(h))
        p2 = (rng.randrange(w), rng.randrange(h))
        cv2.line(bg, p1, p2, [rng.randint(0, 255)] * 3, rng.randint(1, 6))
    return np.clip(bg, 0, 255).astype(np.uint8)


# Roll of a "wide roll" plate (degrees, uniform either way): a plate hung crooked, or a camera beside the lane.
WIDE_ROLL = 18.0


def perspective_quad(
    w: float, h: float, rng: random.Random, max_yaw: float = 35.0, wide_roll: float = 0.0
) -> np.ndarray:
    """Corners (tl, tr, br, bl) of a ``w x h`` plate seen with random yaw, pitch and roll.

    Roll is normal with sd 4 degrees; with ``wide_roll`` > 0 that share of plates instead rolls uniformly
    up to :data:`WIDE_ROLL` either way. (With 0 no extra number is drawn: older seeds give the same pixels.)
    """
    yaw = math.radians(rng.uniform(-max_yaw, max_yaw))
    pitch = math.radians(rng.uniform(-20, 20))
    roll = math.radians(rng.gauss(0, 4))
    if wide_roll > 0.0 and rng.random() < wide_roll:
        roll = math.radians(rng.uniform(-WIDE_ROLL, WIDE_ROLL))
    # Foreshortening: the far side looks shorter, the whole plate narrower.
    near = 1.0 + 0.25 * abs(math.sin(yaw))
    far = 1.0 - 0.25 * abs(math.sin(yaw))
    lh, rh = (far, near) if yaw > 0 else (near, far)
    ww = w * math.cos(yaw)
    hh = h * math.cos(pitch)
    top_w = ww * (1.0 + 0.15 * math.sin(pitch))
    bot_w = ww * (1.0 - 0.15 * math.sin(pitch))
    pts = np.array(
        [[-top_w / 2, -hh * lh / 2], [top_w / 2, -hh * rh / 2], [bot_w / 2, hh * rh / 2], [-bot_w / 2, hh * lh / 2]],
        np.float32,
    )
    rot = np.array([[math.cos(roll), -math.sin(roll)], [math.sin(roll), math.cos(roll)]], np.float32)
    pts = pts @ rot.T
    pts += np.array([[rng.gauss(0, 0.02 * h), rng.gauss(0, 0.02 * h)] for _ in range(4)], np.float32)
    return pts


def photometric(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Light, shadow, glare, dirt, colour shifts and the night IR look, on a BGR uint8 image."""
    h, w = img.shape[:2]
    out = img.astype(np.float32)
    if rng.random() < 0.15:  # IR camera at night: grey and over-exposed
        g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
        out = np.repeat((g * rng.uniform(1.1, 1.8) + rng.uniform(0, 40))[:, :, None], 3, axis=2)
    out = out * rng.uniform(0.45, 1.2) + rng.uniform(-30, 30)
    out *= np.array([rng.uniform(0.85, 1.15) for _ in range(3)], np.float32)
    if rng.random() < 0.4:  # uneven light across the plate
        ramp = np.linspace(rng.uniform(0.4, 1.0), rng.uniform(0.8, 1.3), w, dtype=np.float32)
        out *= ramp[None, :, None] if rng.random() < 0.5 else ramp[None, ::-1, None]
    if rng.random() < 0.25:  # a hard shadow edge
        x0, x1 = rng.uniform(0, w), rng.uniform(0, w)
        poly = np.array([[x0, 0], [w, 0], [w, h], [x1, h]], np.int32)
        mask = np.zeros((h, w), np.float32)
        cv2.fillPoly(mask, [poly], 1.0)
        out *= (1.0 - rng.uniform(0.3, 0.6) * mask)[:, :, None]
    if rng.random() < 0.15:  # glare
        mask = np.zeros((h, w), np.float32)
        cv2.ellipse(
            mask,
            (rng.randrange(w), rng.randrange(h)),
            (rng.randint(w // 10, w // 3), rng.randint(h // 6, h)),
            rng.uniform(0, 180),
            0,
            360,
            1.0,
            -1,
        )
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, h / 8))
        out += mask[:, :, None] * rng.uniform(60, 200)
    if rng.random() < 0.25:  # dirt
        for _ in range(rng.randint(3, 30)):
            cv2.circle(
                out,
                (rng.randrange(w), rng.randrange(h)),
                rng.randint(1, max(2, h // 10)),
                [rng.uniform(40, 120)] * 3,
                -1,
            )
    if rng.random() < 0.3:
        gamma = rng.uniform(0.6, 1.6)
        out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** gamma
    return np.clip(out, 0, 255).astype(np.uint8)


def motion_blur(img: np.ndarray, length: int, angle: float) -> np.ndarray:
    """A straight smear ``length`` px long at ``angle`` degrees (a ``length`` x ``length`` line kernel)."""
    kern = np.zeros((length, length), np.float32)
    kern[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kern = cv2.warpAffine(kern, rot, (length, length))
    return cv2.filter2D(img, -1, kern / max(float(kern.sum()), 1e-6))


def degrade(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Blur (Gaussian or motion), sensor noise and JPEG at the image's current resolution."""
    out = img
    k = rng.random()
    if k < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.1))
    elif k < 0.42:
        n = rng.randint(3, 5)
        out = motion_blur(out, n, rng.uniform(0, 180))
    if rng.random() < 0.6:
        noise = np.random.default_rng(rng.randrange(2**31)).normal(0, rng.uniform(2, 10), out.shape)
        out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(25, 90)])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out


def dusk(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Dusk or night on a moving camera: dim, low contrast, a colour cast, motion blur, then the camera's
    gain lifting its sensor noise with the picture."""
    out = img.astype(np.float32)
    mean = float(out.mean())
    out = mean + (out - mean) * rng.uniform(0.45, 0.85)  # haze, a dirty lens, a plate lit from afar
    out *= rng.uniform(0.25, 0.55)
    out *= np.array([rng.uniform(1.0, 1.5), rng.uniform(0.85, 1.15), rng.uniform(0.7, 1.0)], np.float32)  # BGR
    n = rng.randint(3, max(3, min(7, img.shape[1] // 25)))  # up to half a character's width of smear
    out = motion_blur(out, n, rng.uniform(-20, 20))
    out += np.random.default_rng(rng.randrange(2**31)).normal(0, rng.uniform(2, 5), out.shape)
    return np.clip(out * rng.uniform(1.0, 2.0), 0, 255).astype(np.uint8)


#: How a character is made unreadable (:func:`smudge`).
SMUDGES = ("mud", "snow", "smear", "worn", "bar")


def smudge(plate: np.ndarray, box: tuple[float, float, float, float], rng: random.Random) -> np.ndarray:
    """``plate`` (BGR uint8) with the character in ``box`` made unreadable: covered by mud or snow, smeared
    into a blob, its paint worn off, or hidden behind a bar; the neighbours keep most of their ink."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    out = plate.astype(np.float32)
    mask = np.zeros(plate.shape[:2], np.float32)
    cx, cy = (x1 + x2) / 2 + rng.uniform(-0.1, 0.1) * w, (y1 + y2) / 2 + rng.uniform(-0.1, 0.1) * h
    kind = rng.choice(SMUDGES)
    if kind == "bar":  # a gate bar, a tow hook or a cable in front of the plate
        half = rng.uniform(0.38, 0.55) * w
        cv2.rectangle(mask, (round(cx - half), 0), (round(cx + half), plate.shape[0]), 1.0, -1)
    else:
        axes = (round(rng.uniform(0.55, 0.75) * w), round(rng.uniform(0.5, 0.65) * h))
        cv2.ellipse(mask, (round(cx), round(cy)), axes, rng.uniform(-20, 20), 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.6, 0.06 * w))[:, :, None] * rng.uniform(0.9, 1.0)
    if kind == "smear":  # the glyph spread into a grey blob (a wet smear, a local defocus)
        cover = cv2.GaussianBlur(out, (0, 0), max(1.0, rng.uniform(0.3, 0.45) * w))
    elif kind == "worn":  # the field's own paint, a faint ghost of the ink left
        cover = np.broadcast_to(np.median(out.reshape(-1, 3), axis=0) * rng.uniform(0.85, 1.0), out.shape)
    else:
        tone = rng.uniform(30, 110) if kind in ("mud", "bar") else rng.uniform(190, 250)
        noise = np.random.default_rng(rng.randrange(2**31)).normal(0, rng.uniform(3, 15), out.shape[:2])[:, :, None]
        cover = tone + noise + np.array([rng.uniform(-12, 12) for _ in range(3)], np.float32)
    return np.clip(out * (1 - mask) + cover * mask, 0, 255).astype(np.uint8)


def plate_in_scene(
    text: str, rng: random.Random, plate_px: int = 520, wide_roll: float = 0.0, unread: Sequence[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """A styled plate warped onto a background; returns (BGR image, plate corners in it). The characters at
    the positions ``unread`` are made unreadable (:func:`smudge`)."""
    plate = style_plate(render_plate(text, px_per_mm=plate_px / 520.0).image, rng)
    boxes = char_boxes(text, plate_px / 520.0) if unread else []
    for i in unread:
        plate = smudge(plate, boxes[i], rng)
    ph, pw = plate.shape[:2]
    if rng.random() < 0.5:  # dark plate frame around the plate
        f = rng.randint(2, max(3, ph // 8))
        plate = cv2.copyMakeBorder(plate, f, f, f, f, cv2.BORDER_CONSTANT, value=[rng.randint(0, 60)] * 3)
        inner = np.array([[f, f], [f + pw, f], [f + pw, f + ph], [f, f + ph]], np.float32)
    else:
        inner = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    fh, fw = plate.shape[:2]
    quad = perspective_quad(fw, fh, rng, wide_roll=wide_roll)
    cw, ch = int(fw * 1.35), int(fh * 2.4)
    quad += np.array([cw / 2, ch / 2], np.float32)
    src = np.array([[0, 0], [fw, 0], [fw, fh], [0, fh]], np.float32)
    m = cv2.getPerspectiveTransform(src, quad)
    bg = random_background(ch, cw, rng)
    warped = cv2.warpPerspective(plate, m, (cw, ch), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((fh, fw), 255, np.uint8), m, (cw, ch), flags=cv2.INTER_NEAREST)
    scene = np.where(mask[:, :, None] > 0, warped, bg)
    corners = cv2.perspectiveTransform(inner[None], m)[0]
    return scene, corners


def jitter_box(
    box: tuple[float, float, float, float], rng: random.Random, amount: float = 0.06
) -> tuple[float, float, float, float]:
    """Move each side of a box the way detector boxes wobble (fraction of width/height per side)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (
        x1 + rng.uniform(-amount, amount * 0.6) * w,
        y1 + rng.uniform(-2 * amount, 1.5 * amount) * h,
        x2 + rng.uniform(-amount * 0.6, amount) * w,
        y2 + rng.uniform(-1.5 * amount, 2 * amount) * h,
    )


#: Default plate width at camera resolution for OCR crops, px, drawn log-uniformly: far plates blown up to close ones.
PLATE_WIDTH = (50.0, 320.0)


def ocr_training_crop(
    text: str,
    rng: random.Random,
    wide_roll: float = 0.0,
    plate_width: tuple[float, float] = PLATE_WIDTH,
    dusk_share: float = 0.0,
    unread: Sequence[int] = (),
) -> tuple[np.ndarray, tuple[float, float, float, float], np.ndarray]:
    """A degraded scene around one plate, its (jittered) detector-like box and its exact corners (TL, TR, BR,
    BL; 4 x 2), at camera resolution.

    The plate is rendered large, warped (``wide_roll``: :func:`perspective_quad`), lit, then shrunk to a
    random camera resolution (plate width in ``plate_width`` px, log-uniform) where blur, noise and JPEG
    happen, as in a real frame; ``dusk_share`` of them first get the :func:`dusk` look there. The characters
    at the positions ``unread`` are made unreadable (:func:`smudge`).
    """
    target_w = math.exp(rng.uniform(math.log(plate_width[0]), math.log(plate_width[1])))
    # Render at about twice the final size: enough detail to shrink from, cheap to warp.
    scene, corners = plate_in_scene(text, rng, int(min(520, max(200, 2.2 * target_w))), wide_roll, unread)
    scene = photometric(scene, rng)
    quad_w = float(corners[:, 0].max() - corners[:, 0].min())
    scale = target_w / max(quad_w, 1.0)
    small = cv2.resize(scene, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if dusk_share and rng.random() < dusk_share:  # no draw at 0: older data folders stay reproducible
        small = dusk(small, rng)
    small = degrade(small, rng)
    c = corners * scale
    box = (float(c[:, 0].min()), float(c[:, 1].min()), float(c[:, 0].max()), float(c[:, 1].max()))
    return small, jitter_box(box, rng), c
