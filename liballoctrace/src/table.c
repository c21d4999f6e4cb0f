/* The address table: uintptr_t → slot, open addressing with linear probing. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash_addr(uintptr_t a, uint32_t mask) {
    uint64_t h = (uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32) & mask;
}

bool table_init(at_table *t, uint32_t capacity) {
    uint32_t cap = 16;
    while (cap < capacity) cap <<= 1;
    t->slots = calloc(cap, sizeof(at_slot));
    t->mask = cap - 1;
    t->count = 0;
    return t->slots != NULL;
}

void table_free(at_table *t) {
    free(t->slots);
    t->slots = NULL;
    t->mask = 0;
    t->count = 0;
}

at_slot *table_find(const at_table *t, uintptr_t addr) {
    if (addr == 0 || t->slots == NULL) return NULL;
    for (uint32_t i = hash_addr(addr, t->mask);; i = (i + 1) & t->mask) {
        at_slot *s = &t->slots[i];
        if (s->addr == addr) return s;
        if (s->addr == 0) return NULL;
    }
}

static bool grow(at_table *t) {
    at_table bigger;
    if (t->mask >= 0x40000000u || !table_init(&bigger, (t->mask + 1) * 2)) return false;
    for (uint32_t i = 0; i <= t->mask; i++) {
        const at_slot *s = &t->slots[i];
        if (s->addr == 0) continue;
        uint32_t j = hash_addr(s->addr, bigger.mask);
        while (bigger.slots[j].addr != 0) j = (j + 1) & bigger.mask;
        bigger.slots[j] = *s;
        bigger.count++;
    }
    free(t->slots);
    *t = bigger;
    return true;
}

at_slot *table_insert(at_table *t, uintptr_t addr) {
    if (addr == 0 || t->slots == NULL) return NULL;
    /* keep the load factor at most 1/2 */
    if ((t->count + 1) * 2 > t->mask + 1 && !grow(t)) return NULL;
    uint32_t i = hash_addr(addr, t->mask);
    while (t->slots[i].addr != 0) i = (i + 1) & t->mask;
    at_slot *s = &t->slots[i];
    memset(s, 0, sizeof *s);
    s->addr = addr;
    t->count++;
    return s;
}

void table_remove(at_table *t, at_slot *slot) {
    uint32_t i = (uint32_t)(slot - t->slots);
    uint32_t j = i;
    t->slots[i].addr = 0;
    t->count--;
    /* backward shift: move later members of the cluster into the hole when allowed */
    for (;;) {
        j = (j + 1) & t->mask;
        if (t->slots[j].addr == 0) return;
        uint32_t home = hash_addr(t->slots[j].addr, t->mask);
        /* slot j may move to i if its home is not in (i, j] cyclically */
        bool between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (between) continue;
        t->slots[i] = t->slots[j];
        t->slots[j].addr = 0;
        i = j;
    }
}
