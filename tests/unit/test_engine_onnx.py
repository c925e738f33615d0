"""The learned backend's pre- and post-processing, on tiny ONNX models built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from _engine_path import bundled_photo, bundled_portrait
from onnx import TensorProto, helper, numpy_helper

from face_engine import engine
from face_engine import onnx_backend as ob
from face_engine.detect import detect_faces
from face_engine.geometry import similarity_2x3
from face_engine.mesh import face_region_mask


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def swap_model(path: Path, mode: str = "identity") -> Path:
    """target 1x3x128x128 + source 1x512 -> output. identity: the target back
    (times 1 + 0*mean(source), so the source input is really consumed)."""
    t = helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128])
    s = helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])
    o = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])
    zero = numpy_helper.from_array(np.zeros((1,), np.float32), "zero")
    one = numpy_helper.from_array(np.ones((1,), np.float32), "one")
    nodes = [
        helper.make_node("ReduceMean", ["source"], ["m"], keepdims=1),
        helper.make_node("Mul", ["m", "zero"], ["m0"]),
        helper.make_node("Add", ["m0", "one"], ["scale"]),
        helper.make_node("Mul", ["target", "scale"], ["output"]),
    ]
    return _save(helper.make_graph(nodes, "swap", [t, s], [o], [zero, one]), path)


def embed_model(path: Path) -> Path:
    """1x3x112x112 -> 1x512: per-channel spatial mean into the first three dims (R, G, B)."""
    x = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 112, 112])
    o = helper.make_tensor_value_info("683", TensorProto.FLOAT, [1, 512])
    w = np.zeros((3, 512), np.float32)
    w[0, 0] = w[1, 1] = w[2, 2] = 1.0
    shape = numpy_helper.from_array(np.array([1, 3], np.int64), "shape")
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["m"], axes=[2, 3], keepdims=0),
        helper.make_node("Reshape", ["m", "shape"], ["m2"]),
        helper.make_node("MatMul", ["m2", "w"], ["683"]),
    ]
    return _save(helper.make_graph(nodes, "embed", [x], [o], [numpy_helper.from_array(w, "w"), shape]), path)


def restore_model(path: Path, codeformer: bool = False) -> Path:
    """1x3x512x512 in [-1, 1] -> its negative (a photographic negative after de-normalising)."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])
    o = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 512, 512])
    inputs, nodes, inits = [x], [], []
    if codeformer:
        inputs.append(helper.make_tensor_value_info("weight", TensorProto.DOUBLE, [1]))
        nodes.append(helper.make_node("Cast", ["weight"], ["wf"], to=TensorProto.FLOAT))
        nodes.append(helper.make_node("Mul", ["wf", "zero"], ["w0"]))
        nodes.append(helper.make_node("Sub", ["w0", "input"], ["output"]))
        inits.append(numpy_helper.from_array(np.zeros((1,), np.float32), "zero"))
    else:
        nodes.append(helper.make_node("Neg", ["input"], ["output"]))
    return _save(helper.make_graph(nodes, "restore", inputs, [o], inits), path)


@pytest.fixture(scope="module")
def mona() -> np.ndarray:
    return bundled_portrait("mona-lisa.jpg")


def test_similarity_recovers_a_known_transform_and_templates() -> None:
    a = np.radians(17)
    m = np.array([[1.7 * np.cos(a), -1.7 * np.sin(a), 40.0], [1.7 * np.sin(a), 1.7 * np.cos(a), -12.0]])
    src = ob.ARCFACE_112
    dst = src @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(similarity_2x3(src, dst), m, atol=1e-9)
    # insightface's templates: 112 as is, 128 shifted right by 8 px.
    np.testing.assert_allclose(ob.arcface_template(112), ob.ARCFACE_112)
    np.testing.assert_allclose(ob.arcface_template(128), ob.ARCFACE_112 + [8.0, 0.0])


def test_alignment_puts_the_five_points_on_the_template(mona: np.ndarray) -> None:
    face = detect_faces(mona)[0]
    pts = ob.five_points(face.mesh)
    assert pts[0, 0] < pts[1, 0] and pts[3, 0] < pts[4, 0]  # image-left eye / mouth corner first
    for size, template in ((112, ob.arcface_template(112)), (512, ob.FFHQ_512)):
        crop, m = ob.align(mona, pts, template, size)
        assert crop.shape == (size, size, 3)
        mapped = pts @ m[:, :2].T + m[:, 2]
        # A similarity cannot fit five points exactly, but a frontal face is close.
        assert np.abs(mapped - template).max() < 0.06 * size


def test_tensor_normalisation_round_trips() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (8, 6, 3), dtype=np.uint8)
    for mean, std in ((0.0, 255.0), (127.5, 127.5)):
        t = ob.to_tensor(rgb, mean, std)
        assert t.shape == (1, 3, 8, 6) and t.dtype == np.float32
        np.testing.assert_allclose(t[0, 0], (rgb[..., 0] - mean) / std, rtol=1e-6)  # channel 0 is R
        assert np.array_equal(ob.from_tensor(t, mean, std), rgb)
    assert ob.to_tensor(rgb, 0.0, 255.0).max() <= 1.0
    assert ob.to_tensor(rgb, 127.5, 127.5).min() >= -1.0


def test_identity_embedding_is_normalised_rgb_and_uses_emap(tmp_path: Path, mona: np.ndarray) -> None:
    face = detect_faces(mona)[0]
    flat = np.zeros_like(mona)
    flat[...] = (255, 0, 51)  # R, G, B
    models = ob.OnnxModels(embed=ob._session(embed_model(tmp_path / "embed.onnx")))
    lat = ob.identity_latent(models, flat, face)
    expected = np.zeros(512, np.float32)
    expected[:3] = [(255 - 127.5) / 127.5, (0 - 127.5) / 127.5, (51 - 127.5) / 127.5]
    expected /= np.linalg.norm(expected)
    assert lat.shape == (1, 512)
    np.testing.assert_allclose(lat[0], expected, atol=1e-5)
    perm = np.eye(512, dtype=np.float32)[::-1]  # emap reverses the vector
    models.emap = perm
    np.testing.assert_allclose(ob.identity_latent(models, flat, face)[0], expected[::-1], atol=1e-5)


def test_identity_swap_model_pastes_the_face_back_in_place(tmp_path: Path, mona: np.ndarray) -> None:
    models = ob.OnnxModels(
        swap=ob._session(swap_model(tmp_path / "swap.onnx")), embed=ob._session(embed_model(tmp_path / "embed.onnx"))
    )
    out, timings, mesh = ob.swap_images(models, bundled_photo("visitor-a.jpg"), mona)
    assert {"detect", "swap_model", "blend"} <= timings.keys()
    region = face_region_mask(mesh, mona.shape[:2])
    assert np.array_equal(out[~region], mona[~region])
    # An identity model through align -> 128 px -> inverse warp returns the
    # portrait's own face: misaligned paste-back would shift it visibly.
    diff = np.abs(out[region].astype(int) - mona[region])
    assert diff.mean() < 4.0
    assert out[region].std() > 10  # the face is there, not a flat fill


def test_restore_model_is_normalised_and_pasted_inside_the_face(tmp_path: Path, mona: np.ndarray) -> None:
    face = detect_faces(mona)[0]
    region = face_region_mask(face.mesh, mona.shape[:2])
    nose = face.mesh[1, :2].astype(int)
    for codeformer in (False, True):
        models = ob.OnnxModels(restore=ob._session(restore_model(tmp_path / f"r{codeformer}.onnx", codeformer)))
        out = ob.restore_crop(models, mona, face.mesh)
        assert np.array_equal(out[~region], mona[~region])
        # Negation in [-1, 1] is 255 - x in pixels: the nose is the negative.
        x, y = nose
        patch_in = mona[y - 3 : y + 4, x - 3 : x + 4].astype(int)
        patch_out = out[y - 3 : y + 4, x - 3 : x + 4].astype(int)
        assert np.abs((255 - patch_in) - patch_out).mean() < 12


def test_engine_picks_the_backend_from_model_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mona: np.ndarray
) -> None:
    swap_model(tmp_path / "swap.onnx")
    embed_model(tmp_path / "embed.onnx")
    monkeypatch.setenv("MODEL_DIR", str(tmp_path))
    assert engine.backend_name() == "swap=onnx restore=classical"
    out, timings, _ = engine.swap(bundled_photo("visitor-a.jpg"), mona, "painting")
    assert "swap_model" in timings and out.shape == mona.shape
    restore_model(tmp_path / "restore.onnx")
    ob._loaded.pop(str(tmp_path), None)
    assert engine.backend_name() == "swap=onnx restore=onnx"
    restored, rt = engine.restore(out, "painting")
    assert "harmonise" in rt
    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "missing"))
    assert engine.backend_name() == "swap=classical restore=classical"
    with pytest.raises(ValueError):
        engine.swap(bundled_photo("visitor-a.jpg"), mona, "cubism")
