"""The shipped MNIST: shapes, content, checksum errors, and the fast DataLoaders."""

import shutil

import pytest
import torch

from course_lib import load_mnist, mnist_dls
from course_lib.mnist import DATA_FILE, MNIST_MEAN, MNIST_STD, MNISTFileError


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_load_mnist_has_official_shapes_and_dtypes(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == torch.uint8
    assert mnist.y_train.shape == (60000,) and mnist.y_train.dtype == torch.int64
    assert mnist.x_test.shape == (10000, 28, 28) and mnist.x_test.dtype == torch.uint8
    assert mnist.y_test.shape == (10000,) and mnist.y_test.dtype == torch.int64


def test_label_counts_match_official_mnist(mnist):
    assert torch.bincount(mnist.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert torch.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_first_labels_are_in_official_order(mnist):
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_normalization_constants_are_the_training_set_statistics(mnist):
    x = mnist.x_train.double() / 255
    assert abs(x.mean().item() - MNIST_MEAN) < 1e-9
    assert abs(x.std(unbiased=False).item() - MNIST_STD) < 1e-6


def test_missing_file_names_the_file_and_the_fix(tmp_path):
    missing = tmp_path / "mnist.npz"
    with pytest.raises(MNISTFileError, match=r"not found: .*mnist\.npz.*Reinstall course_lib"):
        load_mnist(missing)


def test_truncated_file_fails_the_checksum(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(DATA_FILE.read_bytes()[:100_000])
    with pytest.raises(MNISTFileError, match=r"mnist\.npz is truncated or altered: its SHA-256 is [0-9a-f]{64}"):
        load_mnist(bad)


def test_altered_file_fails_the_checksum(tmp_path):
    bad = tmp_path / "mnist.npz"
    shutil.copy(DATA_FILE, bad)
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(MNISTFileError, match="truncated or altered"):
        load_mnist(bad)


def test_dls_batches_are_normalized_nchw_floats():
    dls = mnist_dls(bs=256, seed=0)
    xb, yb = dls.train.one_batch()
    assert xb.shape == (256, 1, 28, 28) and xb.dtype == torch.float32
    assert yb.shape == (256,) and yb.dtype == torch.int64
    assert abs(xb.mean().item()) < 0.15 and 0.85 < xb.std().item() < 1.15
    assert len(dls.train) == 60000 // 256  # the last partial batch is dropped
    assert len(dls.valid) == -(-10000 // 256)  # validation keeps every test image
    assert sum(len(y) for _, y in dls.valid) == 10000


def test_validation_set_is_the_test_set_in_order():
    dls, mnist = mnist_dls(bs=1000, seed=0), load_mnist()
    ys = torch.cat([y for _, y in dls.valid])
    assert torch.equal(ys, mnist.y_test)


def test_shuffle_is_seeded_and_differs_between_seeds():
    first = [mnist_dls(bs=512, seed=s).train.one_batch()[1] for s in (1, 1, 2)]
    assert torch.equal(first[0], first[1])
    assert not torch.equal(first[0], first[2])


def test_sample_keeps_only_threes_and_sevens():
    dls = mnist_dls(bs=64, sample=True, seed=0)
    mnist = load_mnist()
    n_valid = int(((mnist.y_test == 3) | (mnist.y_test == 7)).sum())
    ys = torch.cat([y for _, y in dls.valid])
    assert len(ys) == n_valid == 2038
    assert set(ys.tolist()) == {0, 1} and dls.vocab == ["3", "7"]
    assert int(ys.sum()) == int((mnist.y_test == 7).sum())


def test_get_preds_works_through_fastai():
    from torch import nn

    from course_lib.training import make_learner

    learn = make_learner(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), mnist_dls(bs=500, seed=0))
    with learn.no_bar():
        preds, targs = learn.get_preds()
    assert preds.shape == (10000, 10) and torch.equal(targs, load_mnist().y_test)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(bs=0), r"bs must be a positive int, got 0"),
        (dict(bs=64.0), r"bs must be an int, got 64.0"),
        (dict(sample="yes"), r"sample must be True or False, got 'yes'"),
        (dict(seed=1.5), r"seed must be an int, got 1.5"),
    ],
)
def test_mnist_dls_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mnist_dls(**kwargs)
