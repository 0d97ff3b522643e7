"""Signs, shop boards and advertisements: printed text on a flat board that is not a licence plate.

A camera at a gate sees more lettering than plates: road signs (СТОП), lane and gate boards, shop signs and
advertisements with phone numbers. Dark letters on a light rectangle are what a plate detector mistakes most
easily for a plate. :func:`sign` draws such a board as an unlabelled distractor for the detector's training
tiles (``pose_scenes --signs F``): Russian words, phone numbers, opening hours and prices in a system font, on
white, yellow, blue, green or black boards of any aspect, one to three lines, sometimes framed; or a red octagon
with СТОП. None of them has a plate's layout (a letter, three digits, two letters and a region field).

Training code only: needs Pillow. A Cyrillic TrueType font is looked for among the system fonts; without one
the boards carry Latin text in OpenCV's stroke fonts.
"""

from __future__ import annotations

import functools
import math
import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIGN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
)
WORDS = (
    "ВЪЕЗД",
    "ВЫЕЗД",
    "ВХОД",
    "ВЫХОД",
    "КПП",
    "ПРОПУСК",
    "ПАРКОВКА",
    "СТОЯНКА",
    "ОХРАНА",
    "ШЛАГБАУМ",
    "ОСТОРОЖНО",
    "ТУПИК",
    "СКЛАД",
    "ШИНОМОНТАЖ",
    "АВТОМОЙКА",
    "АВТОСЕРВИС",
    "ЗАПЧАСТИ",
    "ПРОДУКТЫ",
    "АПТЕКА",
    "ТАКСИ",
    "КАФЕ",
    "МАГАЗИН",
    "ОФИС",
    "АРЕНДА",
    "ПРОДАЖА",
    "ДОСТАВКА",
    "РЕМОНТ",
    "ГРУЗОВЫЕ",
    "АЗС",
    "МОЙКА",
    "ЛЕГКОВЫЕ",
    "ЗАЕЗД",
    "ТОЛЬКО",
    "ДЛЯ",
    "ГРУЗОВОГО",
    "ТРАНСПОРТА",
    "ул. Ленина",
    "Садовая",
    "Мира",
    "СКИДКИ",
    "ЯРМАРКА",
)
LATIN_WORDS = ("STOP", "EXIT", "PARKING", "SERVICE", "SHOP", "OPEN", "TAXI", "CAFE", "SALE", "OFFICE", "WASH")
#: (board, text) colours, BGR: the boards of Russian road and shop signs.
BOARDS = (
    ((245, 245, 245), (20, 20, 20)),
    ((245, 245, 245), (30, 30, 160)),
    ((40, 210, 245), (20, 20, 20)),
    ((150, 80, 20), (250, 250, 250)),
    ((60, 120, 30), (250, 250, 250)),
    ((30, 30, 30), (250, 250, 250)),
)
STOP_RED = (40, 30, 200)


@functools.lru_cache(maxsize=8)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def sign_fonts() -> tuple[str, ...]:
    """The system fonts that can draw the boards' Cyrillic text (none: boards in Latin stroke fonts)."""
    return tuple(f for f in SIGN_FONTS if Path(f).is_file())


def phrase(rng: random.Random) -> str:
    """One line of a sign: a word or two, a phone number, opening hours, a price or a house number."""
    kind = rng.random()
    if kind < 0.45:
        return " ".join(rng.choice(WORDS) for _ in range(rng.choice((1, 1, 2))))
    if kind < 0.7:
        a, b, c, d = rng.randint(900, 999), rng.randint(100, 999), rng.randint(10, 99), rng.randint(10, 99)
        return rng.choice((f"8 ({a}) {b}-{c}-{d}", f"+7 {a} {b} {c} {d}", f"{b}-{c}-{d}"))
    if kind < 0.8:
        return f"{rng.randint(6, 10)}:00-{rng.randint(18, 23)}:00" if rng.random() < 0.6 else "24 ЧАСА"
    if kind < 0.9:
        return f"{rng.randint(50, 9999)} руб."
    return f"{rng.choice(('д.', 'стр.', 'корп.', '№'))} {rng.randint(1, 250)}"


def _text_board(lines: list[str], font: str | None, board: tuple[int, ...], ink: tuple[int, ...]) -> np.ndarray:
    """The lines drawn centred on a board of their colours, 40 px letters, 12 px margins: (h, w, 3) BGR."""
    if font is None:
        size = [cv2.getTextSize(t, cv2.FONT_HERSHEY_DUPLEX, 1.3, 3)[0] for t in lines]
        w, line_h = max(s[0] for s in size) + 24, max(s[1] for s in size) + 14
        img = np.full((line_h * len(lines) + 14, w, 3), board, np.uint8)
        for i, (t, (tw, th)) in enumerate(zip(lines, size, strict=True)):
            org = ((w - tw) // 2, 7 + line_h * i + th + 7)
            cv2.putText(img, t, org, cv2.FONT_HERSHEY_DUPLEX, 1.3, ink, 3, cv2.LINE_AA)
        return img
    ft = _font(font, 40)
    boxes = [ft.getbbox(t) for t in lines]
    w = max(b[2] - b[0] for b in boxes) + 24
    line_h = max(b[3] - b[1] for b in boxes) + 12
    pil = Image.new("RGB", (w, line_h * len(lines) + 12), board[::-1])
    draw = ImageDraw.Draw(pil)
    for i, (t, b) in enumerate(zip(lines, boxes, strict=True)):
        draw.text(((w - (b[2] - b[0])) // 2 - b[0], 12 + line_h * i - b[1]), t, font=ft, fill=ink[::-1])
    return np.asarray(pil)[:, :, ::-1].copy()


def _stop(font: str | None) -> np.ndarray:
    """A red octagon with a white rim and СТОП (STOP without a Cyrillic font): (h, w, 4) BGRA."""
    r = 60
    img = np.zeros((2 * r + 4, 2 * r + 4, 4), np.uint8)
    pts = np.array(
        [
            (r + 2 + r * math.cos(math.pi / 8 + k * math.pi / 4), r + 2 + r * math.sin(math.pi / 8 + k * math.pi / 4))
            for k in range(8)
        ],
        np.int32,
    )
    cv2.fillPoly(img, [pts], (250, 250, 250, 255), cv2.LINE_AA)
    cv2.fillPoly(img, [((pts - (r + 2)) * 0.88 + (r + 2)).astype(np.int32)], (*STOP_RED, 255), cv2.LINE_AA)
    word = _text_board(["СТОП" if font else "STOP"], font, STOP_RED, (250, 250, 250))
    scale = 0.8 * 2 * r / word.shape[1]
    word = cv2.resize(word, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    y, x = r + 2 - word.shape[0] // 2, r + 2 - word.shape[1] // 2
    img[y : y + word.shape[0], x : x + word.shape[1], :3] = word
    return img


def sign(rng: random.Random) -> np.ndarray:
    """A sign, shop board or advertisement on a transparent background: (h, w, 4) BGRA, letters ~40 px high."""
    fonts = sign_fonts()
    font = rng.choice(fonts) if fonts else None
    if rng.random() < 0.15:
        return _stop(font)
    board, ink = rng.choice(BOARDS)
    lines = [phrase(rng) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    if font is None:
        lines = [rng.choice(LATIN_WORDS) for _ in lines]
    img = _text_board(lines, font, board, ink)
    if rng.random() < 0.4:  # a frame around the board
        t = rng.randint(2, 5)
        cv2.rectangle(img, (t, t), (img.shape[1] - 1 - t, img.shape[0] - 1 - t), ink, t)
    stretch = rng.uniform(0.75, 1.3)  # boards come in any aspect, plate-like ones too
    img = cv2.resize(img, None, fx=stretch, fy=1.0, interpolation=cv2.INTER_AREA)
    alpha = np.full((*img.shape[:2], 1), 255, np.uint8)
    return np.concatenate([img, alpha], axis=2)
