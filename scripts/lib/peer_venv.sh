# shellcheck shell=bash
# Sourced by scripts/run: the Python environment of the heavy peers (PyTorch 2 for torch.compile,
# JAX + optax), a venv under the build directory, made once and reused.
#   focal_peer_venv BUILD_DIR    prints the venv's python; returns 1 (and says why) on failure
# PyTorch's default Linux wheel depends on the whole CUDA toolkit as wheels (several GB); it is
# installed without its dependencies, plus the four NVIDIA wheels it loads at import that the
# system's CUDA (/usr/local/cuda) lacks, at the versions torch pins, and its pure-Python
# dependencies: about 1 GB. FOCAL_PEER_VENV_TIMEOUT (seconds, default 900) bounds the install.
focal_peer_venv() {
  local venv=$1/peer-venv
  local py=$venv/bin/python
  if [ -f "$venv/.focal-complete" ] && "$py" -c "import torch, torchvision, jax, optax" >/dev/null 2>&1; then
    echo "$py"; return 0
  fi
  local limit=${FOCAL_PEER_VENV_TIMEOUT:-900} log=$1/peer-venv.log
  echo "focal: installing the heavy peers (PyTorch 2, JAX, optax) into $venv, log $log (at most ${limit}s)" >&2
  rm -rf "$venv"
  mkdir -p "$1"
  if ! _focal_peer_venv_install "$venv" "$limit" >"$log" 2>&1; then
    echo "focal: the heavy peers could not be installed (see $log)" >&2
    return 1
  fi
  echo "$py"
}

# The torch pins of the NVIDIA wheels it loads at import ("nvidia-nccl-cu13==2.30.7", ...).
_FOCAL_TORCH_PINS='
import importlib.metadata as md, re
want = ("nvidia-cusparselt-cu13", "nvidia-nccl-cu13", "nvidia-nvshmem-cu13")
for r in md.requires("torch") or []:
    if re.split(r"[ =<>;\[]", r, maxsplit=1)[0] in want:
        print(r.split(";")[0].strip())'

_focal_peer_venv_install() {  # VENV TIMEOUT   (each step || return: set -e is off under "if !")
  local py=$1/bin/python pins=()
  /usr/bin/python3 -m venv "$1" || return 1
  timeout "$2" "$py" -m pip install -q --no-deps torch torchvision || return 1
  mapfile -t pins < <("$py" -c "$_FOCAL_TORCH_PINS") && [ ${#pins[@]} -eq 3 ] || return 1
  timeout "$2" "$py" -m pip install -q nvidia-cufile "${pins[@]}" filelock typing-extensions sympy \
    networkx jinja2 fsspec pillow numpy jax jaxlib optax || return 1
  "$py" -c "import torch, torchvision, jax, optax" || return 1
  touch "$1/.focal-complete"
}
