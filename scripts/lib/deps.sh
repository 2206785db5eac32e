# Sourced by scripts/run and scripts/test: installs the Debian packages a fresh Debian 12 machine
# lacks (via sudo when not root). FOCAL_NO_INSTALL=1 skips installing (then missing ones fail
# the configure step with CMake's own message).
focal_install_deps() {
  local want=(cmake g++ make libbenchmark-dev libgtest-dev libxsimd-dev libmpfr-dev libgmp-dev
              nlohmann-json3-dev python3 "$@")
  local missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "${FOCAL_NO_INSTALL:-0}" = 1 ]; then
    echo "focal: missing packages (FOCAL_NO_INSTALL=1, not installing): ${missing[*]}" >&2
    return 0
  fi
  echo "focal: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2 || { echo "focal: apt-get update failed" >&2; return 1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || { echo "focal: could not install: ${missing[*]}" >&2; return 1; }
}

# Prints the Python interpreter for the scripts: $FOCAL_PYTHON, else the first of the system
# python3 (where apt installs python3-matplotlib / python3-torchvision) and the python3 on PATH
# that can import matplotlib, else whichever python3 exists.
focal_python() {
  if [ -n "${FOCAL_PYTHON:-}" ]; then echo "$FOCAL_PYTHON"; return 0; fi
  local py
  for py in /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
    [ -x "$py" ] && "$py" -c "import matplotlib" >/dev/null 2>&1 && { echo "$py"; return 0; }
  done
  for py in /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
    [ -x "$py" ] && { echo "$py"; return 0; }
  done
  echo "focal: no python3 found (install python3)" >&2
  return 1
}
