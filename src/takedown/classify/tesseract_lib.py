"""Tesseract through its C API (`libtesseract`, installed with the `tesseract` binary), with the
language models loaded once per engine instead of once per image.

Starting the `tesseract` binary loads eng+ara+fra+deu for every image: ~0.25 s of CPU before it
reads a pixel, where recognising a small image takes ~3–35 ms. Under load that start-up was the
worker's main cost (a 64-item batch with three images spent ~0.8 s in it). Here a small pool of
initialised engines is kept per process; an engine is used by one thread at a time (the C API is
not thread-safe per handle), and `recognise` hands it the RGB pixels Pillow decoded and checked,
so tesseract never parses the file itself. The time bound is tesseract's own deadline monitor.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from takedown.core.errors import InvalidInput, Unavailable

PSM_AUTO = 3
"""Page segmentation as the CLI's `--psm 3`."""


def _bind(lib: ctypes.CDLL) -> None:
    handle, text = ctypes.c_void_p, ctypes.c_char_p
    signatures: dict[str, tuple[list[type], type | None]] = {
        "TessBaseAPICreate": ([], handle),
        "TessBaseAPIDelete": ([handle], None),
        "TessBaseAPIInit3": ([handle, text, text], ctypes.c_int),
        "TessBaseAPISetVariable": ([handle, text, text], ctypes.c_int),
        "TessBaseAPISetPageSegMode": ([handle, ctypes.c_int], None),
        "TessBaseAPISetImage": ([handle, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_int], None),
        "TessBaseAPIRecognize": ([handle, handle], ctypes.c_int),
        "TessBaseAPIGetUTF8Text": ([handle], ctypes.c_void_p),
        "TessBaseAPIClear": ([handle], None),
        "TessDeleteText": ([ctypes.c_void_p], None),
        "TessMonitorCreate": ([], handle),
        "TessMonitorDelete": ([handle], None),
        "TessMonitorSetDeadlineMSecs": ([handle, ctypes.c_int], None),
        "TessBaseAPIGetAvailableLanguagesAsVector": ([handle], ctypes.POINTER(ctypes.c_char_p)),
        "TessDeleteTextArray": ([ctypes.POINTER(ctypes.c_char_p)], None),
    }
    for name, (args, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes = args
        function.restype = result


def load_library(name: str = "tesseract") -> ctypes.CDLL:
    """The C library, or Unavailable where it is not installed (or too old for the calls)."""
    path = ctypes.util.find_library(name)
    if path is None:
        raise Unavailable("libtesseract is not installed")
    try:
        lib = ctypes.CDLL(path)
        _bind(lib)
    except (OSError, AttributeError) as error:
        raise Unavailable(f"libtesseract cannot be used: {error}") from None
    return lib


class _Engine:
    """One initialised TessBaseAPI handle; used by one thread at a time."""

    def __init__(self, lib: ctypes.CDLL, langs: str) -> None:
        self._lib = lib
        self._api = lib.TessBaseAPICreate()
        if lib.TessBaseAPIInit3(self._api, None, langs.encode()) != 0:
            lib.TessBaseAPIDelete(self._api)
            raise Unavailable(f"tesseract could not load the language data {langs}")
        lib.TessBaseAPISetVariable(self._api, b"debug_file", b"/dev/null")
        lib.TessBaseAPISetPageSegMode(self._api, PSM_AUTO)

    def available(self) -> set[str]:
        array = self._lib.TessBaseAPIGetAvailableLanguagesAsVector(self._api)
        found: set[str] = set()
        n = 0
        while array[n] is not None:
            found.add(array[n].decode())
            n += 1
        self._lib.TessDeleteTextArray(array)
        return found

    def recognise(self, rgb: bytes, width: int, height: int, timeout_s: float) -> str:
        lib = self._lib
        monitor = lib.TessMonitorCreate()
        try:
            lib.TessMonitorSetDeadlineMSecs(monitor, max(1, int(timeout_s * 1000)))
            lib.TessBaseAPISetImage(self._api, rgb, width, height, 3, 3 * width)
            started = time.monotonic()
            status = lib.TessBaseAPIRecognize(self._api, monitor)
            if time.monotonic() - started >= timeout_s:
                raise InvalidInput("OCR took too long on this image", hint="image too complex")
            if status != 0:
                raise InvalidInput("tesseract could not read the image")
            pointer = lib.TessBaseAPIGetUTF8Text(self._api)
            if not pointer:
                return ""
            try:
                return ctypes.string_at(pointer).decode("utf-8", "replace")
            finally:
                lib.TessDeleteText(pointer)
        finally:
            lib.TessBaseAPIClear(self._api)
            lib.TessMonitorDelete(monitor)

    def close(self) -> None:
        self._lib.TessBaseAPIDelete(self._api)


class EnginePool:
    """At most `size` engines per process (each holds the language models, ~50 MB), created on
    first need and reused; a caller beyond `size` waits for a free one."""

    def __init__(self, lib: ctypes.CDLL, langs: str, size: int = 2) -> None:
        self._lib = lib
        self._langs = langs
        self._size = max(1, size)
        self._idle: list[_Engine] = []
        self._made = 0
        self._cond = threading.Condition()

    @contextmanager
    def engine(self) -> Iterator[_Engine]:
        with self._cond:
            while not self._idle and self._made >= self._size:
                self._cond.wait()
            engine = self._idle.pop() if self._idle else None
            if engine is None:
                self._made += 1
        if engine is None:
            try:
                engine = _Engine(self._lib, self._langs)
            except BaseException:
                with self._cond:
                    self._made -= 1
                    self._cond.notify()
                raise
        try:
            yield engine
        finally:
            with self._cond:
                self._idle.append(engine)
                self._cond.notify()

    def close(self) -> None:
        with self._cond:
            for engine in self._idle:
                engine.close()
            self._made -= len(self._idle)
            self._idle.clear()
