# scripts/setup.sh — sourced by scripts/run and scripts/test: installs what is missing
# (Debian/Ubuntu, with apt-get as root or through sudo) and configures a Meson build dir.
# Not meant to be run on its own.

ALC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ALC_PACKAGES="meson ninja-build gcc pkg-config liblua5.4-dev libcjson-dev"
ALC_TEST_PACKAGES="libcriterion-dev valgrind python3 git"

alc_missing_packages() {
    local missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    echo "$missing"
}

# alc_install PKG... — installs the packages that are not installed yet.
alc_install() {
    local missing
    missing="$(alc_missing_packages "$@")"
    [ -z "$missing" ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "alc: missing packages:$missing" >&2
        echo "alc: this is not a Debian-like system; install the equivalents of:$missing" >&2
        exit 1
    fi
    local SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
        else
            echo "alc: missing packages:$missing" >&2
            echo "alc: run as root or install them with: sudo apt-get install -y$missing" >&2
            exit 1
        fi
    fi
    echo "alc: installing$missing" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
}

# alc_install_node — Node.js and npm for the interop tests, unless some install already has them
# (the machine image may ship Node outside Debian's packages).
alc_install_node() {
    if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then return 0; fi
    alc_install nodejs npm
}

# alc_configure DIR [meson options...] — sets DIR up once, later calls only rebuild.
alc_configure() {
    local dir="$1"; shift
    if [ ! -f "$ALC_ROOT/$dir/build.ninja" ]; then
        meson setup "$ALC_ROOT/$dir" "$ALC_ROOT" --wrap-mode=nodownload "$@" >&2
    fi
    ninja -C "$ALC_ROOT/$dir" >&2
}
