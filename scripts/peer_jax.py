#!/usr/bin/env python3
"""The JAX peer: optax.sigmoid_focal_loss under jax.jit ("jax_jit") on the CPU, timed on the same
sizes and thread counts as focal-bench, written as Google Benchmark JSON (names as
scripts/lib/peer_common.py says).

  peer_jax.py [--sizes 10,16,20,24] [--threads 1,2] [--gamma 2] [--alpha 0.25] [--repeat 5] --json FILE

sum = jit(sum(optax.sigmoid_focal_loss(x, t, alpha, gamma))); grad = jit(value_and_grad) of the
same. Float32 throughout (jax's default). Without jax/optax it records the skip and exits 0."""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peer_common as pc  # noqa: E402
from names import OP_GRAD, OP_SUM  # noqa: E402

PROG = "peer_jax"


def main(argv=None):
    args = pc.parse_args(pc.parser(PROG, __doc__.split("\n\n")[0]), argv)
    rc = pc.per_thread_count(PROG, args, argv)
    if rc is not None:
        return rc
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
        import jax.numpy as jnp
        import numpy as np
        import optax
    except Exception as e:  # ImportError, or a broken install raising something else
        return pc.skip(args.json, PROG, f"jax/optax not importable with {sys.executable}: {e}")
    seed = int(os.environ.get("FOCAL_SEED", "0")) or int(time.time())
    rng = np.random.default_rng(seed)

    def inputs(n):
        x = jnp.asarray((rng.standard_normal(n) - np.log(99.0)).astype(np.float32))
        t = jnp.asarray((rng.random(n) < 0.001).astype(np.float32))
        return x, t

    def loss(x, t):
        return jnp.sum(optax.sigmoid_focal_loss(x, t, alpha=args.alpha, gamma=args.gamma))

    f_sum, f_grad = jax.jit(loss), jax.jit(jax.value_and_grad(loss))

    def op_sum(x, t):
        return f_sum(x, t).block_until_ready()

    def op_grad(x, t):
        v, g = f_grad(x, t)
        return g.block_until_ready()

    impls = {"jax_jit": {OP_SUM: op_sum, OP_GRAD: op_grad}}
    # One thread count per process (peer_common): XLA sizes its CPU thread pool at start.
    benchmarks = pc.run_points(PROG, args, impls, inputs, lambda t: None)
    extra = {"peer_jax": jax.__version__, "peer_optax": optax.__version__, "peer_device": "cpu",
             "peer_gamma": args.gamma, "peer_alpha": args.alpha, "peer_seed": seed}
    return pc.write(args.json, PROG, pc.context(extra), benchmarks)


if __name__ == "__main__":
    sys.exit(main())
