/* model.c - the randomized model test: millions of random page-table operations in a
 * few 4 GiB windows of both halves (so that they collide often), each checked against
 * the reference model. Usage: model_test [--seed N] [--ops M] [--check-every K]
 * [--levels 4|5] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define WIN (4 * GIB)

/* Windows, 4 levels: across the 512 GiB PML4 boundary, the top of the lower half, the
 * bottom of the upper half, the top of the address space. 5 levels: across the 256 TiB
 * PML5 boundary, and the same three edges of the 57-bit space. Hot spots sit on the
 * edges. */
static const uint64_t bases4[4] = {
	0x0000007f80000000ull, 0x00007fff00000000ull, 0xffff800000000000ull, 0xffffffff00000000ull,
};
static const uint64_t bases5[4] = {
	0x0000ffff80000000ull, 0x00ffffff00000000ull, 0xff00000000000000ull, 0xffffffff00000000ull,
};
static const uint64_t *bases = bases4;
static uint64_t lower_top = 1ull << 47; /* one past the lower half */
static const uint64_t sizes[4] = { WIN, WIN, WIN, WIN };
static const uint64_t hot[4] = { 2 * GIB, WIN, 0, WIN };

/* xoshiro256** seeded through splitmix64 */
static uint64_t rs[4];
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t rnd(void)
{
	uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}
static void seed_rng(uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		rs[i] = z ^ (z >> 31);
	}
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
static bool chance(unsigned percent_x10) { return below(1000) < percent_x10; }

/* Recently mapped leaf starts, so that unmap/split/protect often hit something. */
#define RECENT 128
static uint64_t recent[RECENT];
static unsigned recent_n;
static void remember(uint64_t va) { recent[recent_n++ % RECENT] = va; }

static uint64_t last_va, last_pa; /* for runs of neighbouring 4 KiB maps */

/* An offset inside window w, aligned to align, mostly near its hot spot. */
static uint64_t pick_off(unsigned w, uint64_t align)
{
	uint64_t off;
	if (chance(650)) {
		int64_t d = (int64_t)below(64 * MIB) - (int64_t)(32 * MIB);
		int64_t o = (int64_t)hot[w] + d;
		off = o < 0 ? 0 : (uint64_t)o >= WIN ? WIN - 1 : (uint64_t)o;
	} else {
		off = below(WIN);
	}
	off &= ~(align - 1);
	return off;
}

static uint64_t pick_len(void)
{
	unsigned c = (unsigned)below(1000);
	if (c < 600)
		return (1 + below(16)) * 4 * KIB;
	if (c < 850)
		return (1 + below(2048)) * 4 * KIB;
	if (c < 990)
		return chance(500) ? (1 + below(512)) * 2 * MIB : (1 + below(262144)) * 4 * KIB;
	return (1 + below(WIN / (2 * MIB))) * 2 * MIB;
}

static unsigned pick_flags(void)
{
	if (chance(10))
		return (unsigned)(1u << (6 + below(26))) | (unsigned)below(64); /* unknown bit */
	return (unsigned)below(64);
}

/* A physical address congruent to va modulo a random page size, below phys_bits. */
static uint64_t pick_pa(const rh *h, uint64_t va)
{
	unsigned pb = h->m.phys_bits < 40 ? h->m.phys_bits : 40;
	if (chance(10))
		return (1ull << h->m.phys_bits) + below(1ull << 30) * 4096; /* beyond the CPU */
	uint64_t align = pg_size_bytes((pg_size)below(3));
	uint64_t pa = (below(1ull << pb) & ~(GIB - 1)) + (va & (align - 1));
	pa += below(4) * align;
	pa &= (1ull << pb) - 1;
	return pa;
}

static void gen(rh *h, rh_op *op)
{
	unsigned w = (unsigned)below(4);
	uint64_t base = bases[w];
	unsigned c = (unsigned)below(1000);
	memset(op, 0, sizeof(*op));
	op->avail = -1;
	op->flags = pick_flags();
	if (c < 220) {
		op->kind = OP_MAP;
		op->size = chance(600) ? PG_4K : chance(750) ? PG_2M : PG_1G;
		uint64_t sz = pg_size_bytes((pg_size)op->size);
		op->va = base + pick_off(w, sz);
		op->pa = pick_pa(h, op->va) & ~(sz - 1);
		if (op->size == PG_4K && chance(250) && rm_in_window(&h->m, last_va + 4096)) {
			op->va = last_va + 4096;
			op->pa = last_pa + 4096;
		}
		if (chance(20))
			op->pa += 4096 * (1 + below(511)); /* misaligned frame */
		if (chance(20))
			op->va += 4096 * (1 + below(511)); /* misaligned page */
		if (!rm_in_window(&h->m, op->va))
			op->va = base + pick_off(w, 4096); /* wrapped past the top */
		if (chance(5))
			op->size = 3 + (unsigned)below(5);
	} else if (c < 330) {
		op->kind = OP_MAP_RANGE;
		op->size = (unsigned)below(3);
		op->va = base + pick_off(w, 4096);
		op->len = pick_len();
		if (op->len >= 2 * MIB && chance(500))
			op->va &= ~(2 * MIB - 1);
		op->pa = pick_pa(h, op->va);
		if (op->size == PG_4K && op->len > 64 * MIB && !chance(100))
			op->size = PG_2M; /* keep millions of 4 KiB leaves rare */
		if (chance(5))
			op->size = 3;
	} else if (c < 460) {
		op->kind = OP_UNMAP;
		op->va = recent_n && chance(600) ? recent[below(recent_n < RECENT ? recent_n : RECENT)]
						 : base + pick_off(w, 4096);
	} else if (c < 530) {
		op->kind = OP_UNMAP_RANGE;
		op->va = base + pick_off(w, chance(300) ? 2 * MIB : 4096);
		op->len = pick_len();
	} else if (c < 620) {
		op->kind = OP_PROTECT;
		op->va = recent_n && chance(500) ? recent[below(recent_n < RECENT ? recent_n : RECENT)]
						 : base + pick_off(w, 4096);
		op->len = chance(500) ? pg_size_bytes((pg_size)below(3)) : pick_len();
	} else if (c < 680) {
		op->kind = OP_SPLIT;
		op->va = recent_n && chance(700) ? recent[below(recent_n < RECENT ? recent_n : RECENT)]
						 : base + pick_off(w, 2 * MIB);
	} else if (c < 910) {
		op->kind = OP_TRANSLATE;
		op->va = base + pick_off(w, 1) + below(4096);
	} else if (c < 940) {
		op->kind = OP_TOUCH;
		op->va = recent_n && chance(800) ? recent[below(recent_n < RECENT ? recent_n : RECENT)]
						 : base + pick_off(w, 4096);
		op->va += below(2 * MIB) & ~4095ull;
		op->flags = 1 + (unsigned)below(RH_EXTRA_BITS); /* A/D, software bits, key */
	} else if (c < 960) {
		op->kind = OP_WALK;
		op->va = base + pick_off(w, 4096);
		op->len = pick_len();
	} else {
		/* Arguments that must be refused whatever the tables hold. */
		op->kind = (rh_kind)below(OP_SPLIT + 1);
		op->size = (unsigned)below(3);
		op->len = pick_len();
		switch (below(4)) {
		case 0: /* non-canonical */
			op->va = lower_top + below(-2 * lower_top) * 4096 % (-2 * lower_top);
			op->va &= ~(GIB - 1);
			break;
		case 1: /* running over the top of the lower half */
			op->va = lower_top - 2 * MIB - below(16) * 4096;
			op->len = 4 * MIB;
			break;
		case 2: /* wrapping past 2^64 */
			op->va = 0xffffffffffe00000ull;
			op->len = 4 * MIB + below(16) * 4096;
			break;
		default: /* unaligned or empty */
			op->va = base + pick_off(w, 4096) + 1 + below(4095);
			if (chance(300))
				op->len = 0;
			break;
		}
		op->pa = pick_pa(h, op->va & ~4095ull);
	}
	/* Length must keep the op inside its window unless the op is about an edge. */
	for (unsigned i = 0; i < 4 && op->kind != OP_MAP && op->len && c < 960; i++) {
		uint64_t room = bases[i] + WIN - op->va; /* wraps to the right value in window 3 */
		if (op->va - bases[i] < WIN && op->len > room)
			op->len = room;
	}
	if ((op->kind == OP_MAP || op->kind == OP_MAP_RANGE || op->kind == OP_SPLIT) && chance(80))
		op->avail = (long)below(4);
	op->handle = chance(250); /* a second handle on the same tables: its walk cache */
}

static void usage(void)
{
	fprintf(stderr, "usage: model_test [--seed N] [--ops M] [--check-every K] "
		"[--levels 4|5]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32), ops = 1000000;
	uint64_t every = 4096, epoch = 0;
	unsigned levels = 4;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--seed") && *argv[i + 1])
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ops") && *argv[i + 1])
			ops = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--levels") && *argv[i + 1])
			levels = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--check-every"))
			every = strtoull(argv[++i], NULL, 0);
		else if (*argv[i + 1] == 0)
			i++; /* an empty value (e.g. SEED= from make) keeps the default */
		else
			usage();
	}
	if (!every)
		every = 1;
	if (levels != 4 && levels != 5)
		usage();
	printf("model: seed=%llu ops=%llu levels=%u (rerun: model_test --seed %llu --ops %llu "
	       "--levels %u)\n", (unsigned long long)seed, (unsigned long long)ops, levels,
	       (unsigned long long)seed, (unsigned long long)ops, levels);
	fflush(stdout);
	seed_rng(seed);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	static rh h;
	if (levels == 5) {
		bases = bases5;
		lower_top = 1ull << 56;
	}
	rh_init(&h, bases, sizes, 4, 1ull << 30, levels);
	static const unsigned pbits[4] = { 39, 40, 46, 52 }; /* simram sits at 2^38 */
	uint64_t kinds[OP__COUNT] = { 0 }, i, checks = 0, spaces = 0, nofree = 0;
	uint64_t span = ops / 8 < 1000 ? 1000 : ops / 8 > 100000 ? 100000 : ops / 8;
	bool ok = true;
	for (i = 0; i < ops && ok; i++) {
		if (i == epoch) {
			/* a new space now and then: other CPU features, every third one over a
			 * frame source without free; destroy checked */
			bool nx = !chance(250), g1 = !chance(250), reclaim = spaces % 3 != 1;
			unsigned pb = pbits[below(4)];
			ok = rh_reset(&h, nx, g1, pb, reclaim);
			spaces++;
			nofree += !reclaim;
			epoch = i + span + below(span);
			recent_n = 0;
			if (!ok)
				break;
		}
		rh_op op;
		gen(&h, &op);
		kinds[op.kind]++;
		ok = rh_step(&h, &op);
		if (!ok)
			break;
		if (op.kind == OP_MAP || op.kind == OP_MAP_RANGE) {
			rm_leaf l;
			if (rm_lookup(&h.m, op.va, &l) && l.start == op.va) {
				remember(op.va);
				last_va = op.va;
				last_pa = l.phys;
			}
		}
		if ((i + 1) % every == 0) {
			checks++;
			if (!(ok = rh_check_all(&h)))
				break;
		}
	}
	if (ok) {
		ok = rh_check_all(&h);
		checks++;
	}
	if (ok)
		ok = rh_reset(&h, true, true, 52, true); /* destroys the last space */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	if (!ok) {
		printf("model: DIVERGED at op %llu (seed %llu): %s\n", (unsigned long long)i,
		       (unsigned long long)seed, h.err);
		printf("model: rerun with: build/model/model_test --seed %llu --ops %llu --levels %u\n",
		       (unsigned long long)seed, (unsigned long long)(i + 1), levels);
	} else {
		printf("model: ops=%llu seed=%llu ok=%llu refused=%llu full_checks=%llu spaces=%llu "
		       "without_free=%llu time=%.1fs\n", (unsigned long long)ops,
		       (unsigned long long)seed, (unsigned long long)h.stat_ok,
		       (unsigned long long)h.stat_err, (unsigned long long)checks,
		       (unsigned long long)spaces, (unsigned long long)nofree, secs);
		printf("model: map=%llu map_range=%llu unmap=%llu unmap_range=%llu protect=%llu "
		       "split=%llu translate=%llu walk=%llu touch=%llu\n",
		       (unsigned long long)kinds[OP_MAP], (unsigned long long)kinds[OP_MAP_RANGE],
		       (unsigned long long)kinds[OP_UNMAP], (unsigned long long)kinds[OP_UNMAP_RANGE],
		       (unsigned long long)kinds[OP_PROTECT], (unsigned long long)kinds[OP_SPLIT],
		       (unsigned long long)kinds[OP_TRANSLATE], (unsigned long long)kinds[OP_WALK],
		       (unsigned long long)kinds[OP_TOUCH]);
	}
	rh_fini(&h);
	printf("%d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
	return ok ? 0 : 1;
}
