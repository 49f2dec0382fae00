/* version.h — the alc version string (kept in step with meson.build's project version). */
#ifndef ALC_VERSION_H
#define ALC_VERSION_H
#define ALC_VERSION "0.1.0"
#endif
