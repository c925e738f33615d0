"""Amazon Polly, locally: `POST /v1/speech` (SynthesizeSpeech) answered with real speech from eSpeak NG.

An unchanged boto3 `polly` client pointed at `url` (endpoint_url) gets audio offline. The speech
comes from libespeak-ng and its voice data bundled in the `espeakng-loader` wheel, through ctypes.

Formats, with Polly's sample rates and defaults: `pcm` (16-bit signed little-endian mono, 8000 or
16000 Hz, default 16000), `mp3` and `ogg_vorbis` (8000, 16000, 22050 or 24000 Hz; default 24000 for
the neural, long-form and generative engines, 22050 for standard), encoded by libsndfile from the
`soundfile` wheel. `json` (speech marks), `ogg_opus`, `mulaw` and `alaw` are answered with a
ValidationException naming the formats produced, never with bytes that merely look like audio.
Voices: Polly voice ids map to eSpeak voices (`VOICES`); an unknown id is a ValidationException as
in Polly. Engine and LanguageCode are checked for shape but do not change the eSpeak voice.
"""

from __future__ import annotations

import ctypes
import json
import threading
from collections.abc import Callable

import numpy as np

from gallery_local.http_util import LoopbackService, QuietHandler

# Polly voice id -> eSpeak NG voice name. Seoyeon is Polly's Korean voice; the English ones are the
# neural voices the gallery may pick.
VOICES: dict[str, str] = {
    "Seoyeon": "ko",
    "Joanna": "en-us",
    "Matthew": "en-us",
    "Ivy": "en-us",
    "Kendra": "en-us",
    "Kimberly": "en-us",
    "Salli": "en-us",
    "Joey": "en-us",
    "Justin": "en-us",
    "Kevin": "en-us",
    "Ruth": "en-us",
    "Stephen": "en-us",
    "Danielle": "en-us",
    "Gregory": "en-us",
    "Amy": "en-gb",
    "Brian": "en-gb",
    "Emma": "en-gb",
}
RATES = {
    "pcm": ("8000", "16000"),
    "mp3": ("8000", "16000", "22050", "24000"),
    "ogg_vorbis": ("8000", "16000", "22050", "24000"),
}
CONTENT_TYPES = {"pcm": "audio/pcm", "mp3": "audio/mpeg", "ogg_vorbis": "audio/ogg"}
# libsndfile's container and codec for each compressed format.
_SOUNDFILE = {"mp3": ("MP3", "MPEG_LAYER_III"), "ogg_vorbis": ("OGG", "VORBIS")}
FORMATS = ("json", "mp3", "ogg_vorbis", "ogg_opus", "pcm", "mulaw", "alaw")
ENGINES = ("standard", "neural", "long-form", "generative")
MAX_CHARS = 3000  # Polly's limit on billed characters per request

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_CHARS_UTF8 = 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    """libespeak-ng is one global synthesizer per process: every call goes through one lock."""

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self.rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0
        )
        if self.rate <= 0:
            raise RuntimeError("libespeak-ng did not initialise")
        self._chunks: list[np.ndarray] = []
        # Kept on self: ctypes must not collect the callback while the library holds it.
        self._cb = _CALLBACK(self._collect)
        self.lib.espeak_SetSynthCallback(self._cb)
        self.lock = threading.Lock()

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], n: int, _events: int) -> int:
        if wav and n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def speak(self, text: str, voice: str) -> tuple[np.ndarray, int]:
        """int16 samples at the library's own rate (22050 Hz for eSpeak NG)."""
        data = text.encode("utf-8") + b"\0"
        buf = ctypes.create_string_buffer(data)
        with self.lock:
            self._chunks = []
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise RuntimeError(f"eSpeak NG has no voice {voice}")
            rc = self.lib.espeak_Synth(buf, len(data), 0, 0, 0, _ESPEAK_CHARS_UTF8, None, None)
            if rc != 0:
                raise RuntimeError(f"espeak_Synth failed ({rc})")
            chunks, self._chunks = self._chunks, []
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return samples.astype(np.int16), self.rate


_engine: _Espeak | None = None
_engine_lock = threading.Lock()


def _espeak() -> _Espeak:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Espeak()
        return _engine


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Linear interpolation: speech for a kiosk, not studio audio, and no extra dependency."""
    if rate_in == rate_out or samples.size == 0:
        return samples.astype(np.int16)
    n_out = int(round(samples.size * rate_out / rate_in))
    t = np.arange(n_out) * (rate_in / rate_out)
    out = np.interp(t, np.arange(samples.size), samples.astype(np.float64))
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def synthesize(text: str, voice_id: str, sample_rate: int = 16000, output_format: str = "pcm") -> bytes:
    """`text` in the eSpeak voice mapped from `voice_id`: 16-bit mono little-endian PCM, or that
    audio encoded as mp3 or ogg_vorbis."""
    samples, rate = _espeak().speak(text, VOICES[voice_id])
    pcm = resample(samples, rate, sample_rate)
    if output_format == "pcm":
        return pcm.astype("<i2").tobytes()
    import io

    import soundfile

    container, codec = _SOUNDFILE[output_format]
    out = io.BytesIO()
    soundfile.write(out, pcm, sample_rate, format=container, subtype=codec)
    return out.getvalue()


class PollyError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _validate(req: dict) -> tuple[str, str, str, int]:
    text, voice, fmt = req.get("Text"), req.get("VoiceId"), req.get("OutputFormat")
    if not isinstance(text, str) or not text.strip():
        raise PollyError(400, "ValidationException", "Text must be a non-empty string")
    if len(text) > MAX_CHARS:
        raise PollyError(400, "TextLengthExceededException", f"Text is longer than {MAX_CHARS} characters")
    if req.get("TextType", "text") != "text":
        raise PollyError(400, "ValidationException", "Only TextType 'text' is spoken locally (no SSML)")
    if fmt not in FORMATS:
        raise PollyError(400, "ValidationException", f"OutputFormat must be one of {', '.join(FORMATS)}")
    if fmt not in RATES:
        # Polly itself accepts these; locally there is no encoder, and fake bytes would hide it.
        raise PollyError(
            400, "ValidationException", f"OutputFormat {fmt} is not produced locally: use {', '.join(RATES)}"
        )
    if voice not in VOICES:
        raise PollyError(400, "ValidationException", f"Voice {voice!r} is not available locally")
    engine = req.get("Engine", "standard")
    if engine not in ENGINES:
        raise PollyError(400, "ValidationException", f"Engine must be one of {', '.join(ENGINES)}")
    default = "16000" if fmt == "pcm" else "22050" if engine == "standard" else "24000"
    rate = req.get("SampleRate", default)
    if rate not in RATES[fmt]:
        raise PollyError(400, "InvalidSampleRateException", f"SampleRate for {fmt} must be one of {RATES[fmt]}")
    return text, voice, fmt, int(rate)


class _Handler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        path = self.path.split("?", 1)[0]
        raw = self.body()
        if path != "/v1/speech":
            self._error(PollyError(404, "UnknownOperationException", f"No operation at {path}"))
            return
        try:
            self.server.app.check_caller(self, raw)
            req = json.loads(raw or b"{}")
            text, voice, fmt, rate = _validate(req)
            audio = synthesize(text, voice, rate, fmt)
        except PollyError as e:
            self._error(e)
            return
        except ValueError:
            self._error(PollyError(400, "ValidationException", "Request body is not JSON"))
            return
        except Exception as e:  # noqa: BLE001 - any engine failure is Polly's ServiceFailureException
            self._error(PollyError(500, "ServiceFailureException", str(e)))
            return
        self.reply(200, audio, CONTENT_TYPES[fmt], {"x-amzn-RequestCharacters": str(len(text))})

    def _error(self, e: PollyError) -> None:
        # botocore's rest-json parser reads the code from x-amzn-ErrorType and the body's message.
        body = json.dumps({"message": e.message}).encode()
        self.reply(e.status, body, "application/json", {"x-amzn-ErrorType": f"{e.code}:"})


class PollyLocal(LoopbackService):
    """Start it, then `boto3.client("polly", endpoint_url=polly.url)`."""

    def __init__(self, port: int = 0) -> None:
        # Set by the local stack: checks the caller's SigV4 signature and IAM permission as AWS
        # does, (method, url, headers, body, action, resources) -> None or PermissionError.
        self.authorize: Callable[[str, str, dict, bytes, str, list[str]], None] | None = None
        self.region, self.account_id = "us-east-1", "123456789012"
        super().__init__(_Handler, port)

    def check_caller(self, h: QuietHandler, body: bytes) -> None:
        if h.headers.get("Authorization", "").split(" ", 1)[0] != "AWS4-HMAC-SHA256":
            raise PollyError(403, "AccessDeniedException", "Missing Authentication Token")
        if self.authorize is None:
            return
        # SynthesizeSpeech's only resource type is the lexicon.
        lexicon = f"arn:aws:polly:{self.region}:{self.account_id}:lexicon/*"
        try:
            self.authorize("POST", self.url + h.path, dict(h.headers), body, "polly:SynthesizeSpeech", [lexicon])
        except PermissionError as e:
            raise PollyError(403, "AccessDeniedException", str(e)) from None

    @property
    def url(self) -> str:
        return self.server.url
