"""Device-side image augmentation for the fast fit path: random crop with padding, flips.

Everything is ``keras.ops`` / ``keras.random``, so it runs inside the compiled training loop on
every backend (in jax under a ``StatelessScope`` that threads the seed through the loop). The
crop is written as ``2 * pad + 1`` masked selects per spatial axis instead of a gather, which is
what the CIFAR speed records (airbench, hlb-CIFAR10) do on the GPU: a handful of fused
elementwise passes over the batch.
"""

import numpy as np

import keras
from keras import ops

__all__ = ["Augment"]

_PAD_MODES = ("constant", "reflect", "symmetric")


class Augment:
    """Random crop with padding and horizontal flips, applied per image on the device.

    Each training image is padded by ``pad_crop`` pixels on every side and cropped back to its
    size at a random offset (uniform over the ``(2 * pad_crop + 1) ** 2`` positions), then
    mirrored left-right with probability 1/2. This is the standard CIFAR recipe of He et al.
    (2016): ``Augment(flip=True, pad_crop=4)``.

    Args:
        flip: bool, random horizontal flip (probability 0.5).
        pad_crop: int >= 0, padding in pixels for the random crop (0: no crop).
        pad_mode: how to pad: ``"constant"`` (zeros, as He et al.), ``"reflect"`` or
            ``"symmetric"`` (as ``numpy.pad``).
        seed: int or ``None``: seed of the augmentation's own ``keras.random.SeedGenerator``.
        data_format: ``"channels_last"`` or ``"channels_first"`` for rank-4 batches; defaults to
            ``keras.config.image_data_format()``. Rank-3 batches ``(N, H, W)`` are accepted too.

    Returns:
        Calling the object on a batch returns the augmented batch (same shape and dtype).

    Raises:
        ValueError: on a bad argument, or a batch that is not rank 3 or 4, or smaller than the
            padding.

    Example:
        >>> import numpy as np
        >>> aug = Augment(flip=True, pad_crop=2, seed=0)
        >>> x = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
        >>> tuple(aug(x).shape)
        (2, 4, 4, 1)
        >>> # deterministic form: shift image 0 down-right by one pixel, flip image 1
        >>> y = aug.apply(x, dy=[1, 2], dx=[1, 2], flip=[False, True])
        >>> np.asarray(y)[0, :, :, 0].tolist()[1]
        [0.0, 0.0, 1.0, 2.0]
    """

    def __init__(self, flip=False, pad_crop=0, pad_mode="constant", seed=None, data_format=None):
        if not isinstance(flip, (bool, np.bool_)):
            raise ValueError(f"Augment: `flip` must be True or False. Received: flip={flip!r}")
        if isinstance(pad_crop, bool) or not isinstance(pad_crop, (int, np.integer)) or pad_crop < 0:
            raise ValueError(
                "Augment: `pad_crop` must be an integer >= 0 (pixels of padding). "
                f"Received: pad_crop={pad_crop!r}"
            )
        if pad_mode not in _PAD_MODES:
            raise ValueError(f"Augment: `pad_mode` must be one of {_PAD_MODES}. Received: pad_mode={pad_mode!r}")
        data_format = data_format or keras.config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "Augment: `data_format` must be 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format!r}"
            )
        self.flip = bool(flip)
        self.pad_crop = int(pad_crop)
        self.pad_mode = pad_mode
        self.seed = seed
        self.data_format = data_format
        self.seed_generator = keras.random.SeedGenerator(seed, name="augment_seed")

    # ------------------------------------------------------------------ info
    @property
    def active(self):
        """Whether this augmentation changes anything (``flip`` or ``pad_crop > 0``)."""
        return self.flip or self.pad_crop > 0

    def get_config(self):
        """The constructor arguments, as a dict (``Augment(**aug.get_config())`` rebuilds it)."""
        return {
            "flip": self.flip,
            "pad_crop": self.pad_crop,
            "pad_mode": self.pad_mode,
            "seed": self.seed,
            "data_format": self.data_format,
        }

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"Augment({args})"

    def reseed(self, seed):
        """Restart the random stream from an integer ``seed`` (used by ``fit(seed=...)``)."""
        dtype = self.seed_generator.state.dtype
        self.seed_generator.state.assign(ops.convert_to_tensor([int(seed), 0], dtype=dtype))

    # ----------------------------------------------------------------- shapes
    def _axes(self, ndim):
        if ndim == 3:
            return 1, 2
        if ndim == 4:
            return (1, 2) if self.data_format == "channels_last" else (2, 3)
        raise ValueError(
            "Augment: expects a batch of images of rank 3 (N, H, W) or 4; "
            f"Received: a tensor of rank {ndim}"
        )

    def _check(self, x):
        h_axis, w_axis = self._axes(len(x.shape))
        h, w = x.shape[h_axis], x.shape[w_axis]
        if self.pad_mode != "constant" and self.pad_crop and (h is not None and h <= self.pad_crop
                                                              or w is not None and w <= self.pad_crop):
            raise ValueError(
                f"Augment: pad_mode={self.pad_mode!r} needs images larger than pad_crop={self.pad_crop}; "
                f"Received: images of shape {tuple(x.shape[1:])}"
            )
        return h_axis, w_axis

    # ---------------------------------------------------------------- device
    def sample(self, batch_size):
        """Draw the random parameters for a batch.

        Args:
            batch_size: number of images.

        Returns:
            dict with ``dy``, ``dx`` (int32 offsets in ``[0, 2 * pad_crop]``, or ``None``) and
            ``flip`` (bool, or ``None``).

        Example:
            >>> p = Augment(flip=True, pad_crop=1, seed=1).sample(5)
            >>> sorted(k for k, v in p.items() if v is not None)
            ['dx', 'dy', 'flip']
        """
        dy = dx = flip = None
        if self.pad_crop:
            hi = 2 * self.pad_crop + 1
            dy = keras.random.randint((batch_size,), 0, hi, dtype="int32", seed=self.seed_generator)
            dx = keras.random.randint((batch_size,), 0, hi, dtype="int32", seed=self.seed_generator)
        if self.flip:
            flip = keras.random.uniform((batch_size,), seed=self.seed_generator) < 0.5
        return {"dy": dy, "dx": dx, "flip": flip}

    def __call__(self, x):
        if not self.active:
            return x
        x = ops.convert_to_tensor(x)
        self._check(x)
        return self.apply(x, **self.sample(ops.shape(x)[0]))  # dynamic batch size allowed

    def apply(self, x, dy=None, dx=None, flip=None):
        """Apply given crop offsets and flips (deterministic).

        Args:
            x: batch of images, rank 3 or 4.
            dy, dx: per-image crop offsets in ``[0, 2 * pad_crop]`` into the padded image
                (``pad_crop`` means no shift), or ``None`` for no crop.
            flip: per-image booleans (mirror left-right), or ``None``.

        Returns:
            The augmented batch, same shape and dtype as ``x``.

        Example:
            >>> import numpy as np
            >>> x = np.arange(4, dtype="float32").reshape(1, 1, 4)
            >>> np.asarray(Augment(flip=True).apply(x, flip=[True])).tolist()
            [[[3.0, 2.0, 1.0, 0.0]]]
        """
        x = ops.convert_to_tensor(x)
        h_axis, w_axis = self._check(x)
        bshape = (-1,) + (1,) * (len(x.shape) - 1)
        p = self.pad_crop
        if p and dy is not None and dx is not None:
            pad = [[0, 0]] * len(x.shape)
            pad[h_axis] = [p, p]
            pad[w_axis] = [p, p]
            if self.pad_mode == "constant":
                xp = ops.pad(x, pad, mode="constant", constant_values=0)
            else:
                xp = ops.pad(x, pad, mode=self.pad_mode)
            dy = ops.reshape(ops.cast(dy, "int32"), bshape)
            dx = ops.reshape(ops.cast(dx, "int32"), bshape)
            xp = self._select_window(xp, dy, h_axis, x.shape[h_axis], p)
            x = self._select_window(xp, dx, w_axis, x.shape[w_axis], p)
        if self.flip and flip is not None:
            flip = ops.reshape(ops.convert_to_tensor(flip, "bool"), bshape)
            x = ops.where(flip, ops.flip(x, axis=w_axis), x)
        return x

    @staticmethod
    def _select_window(xp, offset, axis, size, p):
        def window(k):
            index = [slice(None)] * len(xp.shape)
            index[axis] = slice(k, k + size)
            return xp[tuple(index)]

        out = window(0)
        for k in range(1, 2 * p + 1):
            out = ops.where(ops.equal(offset, k), window(k), out)
        return out

    # ------------------------------------------------------------------ host
    def numpy(self, x, rng):
        """The same augmentation on the host with numpy (used by the streaming path).

        Args:
            x: numpy batch of images, rank 3 or 4.
            rng: a ``numpy.random.Generator``.

        Returns:
            numpy array, same shape and dtype as ``x``.

        Example:
            >>> import numpy as np
            >>> x = np.ones((3, 4, 4, 1), "uint8")
            >>> Augment(pad_crop=1).numpy(x, np.random.default_rng(0)).shape
            (3, 4, 4, 1)
        """
        x = np.asarray(x)
        if not self.active:
            return x
        h_axis, w_axis = self._axes(x.ndim)
        n, p = x.shape[0], self.pad_crop
        out = x
        if p:
            pad = [(0, 0)] * x.ndim
            pad[h_axis] = (p, p)
            pad[w_axis] = (p, p)
            xp = np.pad(x, pad, mode=self.pad_mode)
            dy = rng.integers(0, 2 * p + 1, n)
            dx = rng.integers(0, 2 * p + 1, n)
            h, w = x.shape[h_axis], x.shape[w_axis]
            out = np.empty_like(x)
            for i in range(n):
                out[i] = np.take(np.take(xp[i], np.arange(dy[i], dy[i] + h), axis=h_axis - 1),
                                 np.arange(dx[i], dx[i] + w), axis=w_axis - 1)
        if self.flip:
            f = rng.random(n) < 0.5
            out = np.where(f.reshape((n,) + (1,) * (x.ndim - 1)), np.flip(out, axis=w_axis), out)
        return out
