"""The local Polly (gallery_local.polly_local) through a real boto3 client: real eSpeak NG speech."""

import io
from collections.abc import Iterator

import boto3
import numpy as np
import pytest
import soundfile
from botocore.exceptions import ClientError

from gallery_local.polly_local import PollyLocal

RMS_FLOOR = 300.0  # int16 RMS; silence is 0 and eSpeak speech measures in the thousands


@pytest.fixture(scope="module")
def polly() -> Iterator[object]:
    service = PollyLocal().start()
    try:
        yield boto3.client(
            "polly",
            endpoint_url=service.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
    finally:
        service.stop()


def _speak(polly: object, text: str, voice: str, rate: str = "16000") -> tuple[dict, np.ndarray]:
    r = polly.synthesize_speech(Text=text, VoiceId=voice, OutputFormat="pcm", SampleRate=rate)
    return r, np.frombuffer(r["AudioStream"].read(), dtype="<i2")


@pytest.mark.parametrize(
    ("voice", "text", "seconds"),
    [
        ("Seoyeon", "안녕하세요, 당신의 전생은 조선의 화가였습니다.", (2.0, 8.0)),
        ("Joanna", "Hello, in a past life you were a painter.", (1.0, 5.0)),
        ("Matthew", "Welcome to the gallery.", (0.5, 3.5)),
    ],
)
def test_speech_is_real_pcm_of_plausible_length(polly: object, voice: str, text: str, seconds: tuple) -> None:
    r, samples = _speak(polly, text, voice)
    assert r["ContentType"] == "audio/pcm"
    assert r["RequestCharacters"] == len(text)
    duration = samples.size / 16000
    assert seconds[0] < duration < seconds[1], duration
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert rms > RMS_FLOOR, rms


def test_sample_rate_scales_the_length(polly: object) -> None:
    _, at16 = _speak(polly, "Hello there", "Joanna", "16000")
    _, at8 = _speak(polly, "Hello there", "Joanna", "8000")
    # eSpeak NG's own length of one phrase varies by a few samples from call to call.
    assert at8.size * 2 == pytest.approx(at16.size, rel=0.02)
    assert at16.size > 8000


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic", "engine", "rate"),
    [
        ("mp3", "audio/mpeg", b"\xff", "neural", 24000),
        ("ogg_vorbis", "audio/ogg", b"OggS", "standard", 22050),
    ],
)
def test_compressed_formats_decode_to_speech(
    polly: object, fmt: str, content_type: str, magic: bytes, engine: str, rate: int
) -> None:
    """No SampleRate given: Polly's default for the engine applies."""
    r = polly.synthesize_speech(Text="Hello, in a past life you were a painter.", VoiceId="Joanna",
                                OutputFormat=fmt, Engine=engine)  # fmt: skip
    assert r["ContentType"] == content_type
    data = r["AudioStream"].read()
    assert data.startswith(magic)
    samples, sample_rate = soundfile.read(io.BytesIO(data), dtype="int16")
    assert sample_rate == rate
    assert 1.0 < samples.size / rate < 5.0
    assert float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) > RMS_FLOOR


def _error(polly: object, **kwargs: str) -> dict:
    with pytest.raises(ClientError) as info:
        polly.synthesize_speech(**{"Text": "hello", "VoiceId": "Joanna", "OutputFormat": "pcm", **kwargs})
    return info.value.response


@pytest.mark.parametrize(
    ("kwargs", "code", "status"),
    [
        ({"VoiceId": "Nobody"}, "ValidationException", 400),
        ({"OutputFormat": "json"}, "ValidationException", 400),
        ({"OutputFormat": "ogg_opus"}, "ValidationException", 400),
        ({"SampleRate": "44100"}, "InvalidSampleRateException", 400),
        ({"SampleRate": "22050"}, "InvalidSampleRateException", 400),  # not for pcm
        ({"Text": "x" * 3001}, "TextLengthExceededException", 400),
    ],
)
def test_bad_requests_are_polly_errors(polly: object, kwargs: dict, code: str, status: int) -> None:
    response = _error(polly, **kwargs)
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
