/*
 * wire.h - little-endian wire integers, encoded byte by byte (never by
 * casting a pointer or writing a struct).
 */
#ifndef PFS_WIRE_H
#define PFS_WIRE_H

#include <stdint.h>

static inline void
pfs_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
pfs_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void
pfs_put64(uint8_t *p, uint64_t v)
{
	pfs_put32(p, (uint32_t)v);
	pfs_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t
pfs_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
pfs_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	       ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t
pfs_get64(const uint8_t *p)
{
	return (uint64_t)pfs_get32(p) | ((uint64_t)pfs_get32(p + 4) << 32);
}

#endif
