package disclosure

import (
	"container/list"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"sync"
)

// Cache remembers Protect's suppression patterns (ADR 0038). Protect is a
// pure function of the frame's shape, its counts, the tables asked for and
// the options, and its audit solves linear programs, seconds for a large
// table; a dashboard asked again over the same counts is given the pattern
// found before. The key is the whole input, compared exactly (the hash
// only finds the bucket), so a count that changed is a miss. A Cache is
// bounded: the least recently used pattern goes first. Its zero value is
// not usable; make one with NewCache. It is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	seed    maphash.Seed
	max     int
	ll      *list.List // of *cacheEntry, most recent first
	buckets map[uint64][]*list.Element
}

type cacheEntry struct {
	hash   uint64
	key    []int64
	status []Status
}

// NewCache returns a cache of at most n patterns (n < 1: 256).
func NewCache(n int) *Cache {
	if n < 1 {
		n = 256
	}
	return &Cache{seed: maphash.MakeSeed(), max: n, ll: list.New(), buckets: map[uint64][]*list.Element{}}
}

// cacheKey is Protect's whole input as integers: the options, the tables,
// each dimension's length and codes' lengths and bytes, and the counts.
func cacheKey(f *Frame, tables [][]int, o Options) []int64 {
	k := []int64{int64(o.K), int64(o.Protection), int64(len(tables))}
	for _, t := range tables {
		k = append(k, int64(len(t)))
		for _, d := range t {
			k = append(k, int64(d))
		}
	}
	k = append(k, int64(len(f.Dims)))
	for _, d := range f.Dims {
		k = append(k, int64(len(d.Codes)))
		for _, c := range d.Codes {
			k = append(k, int64(len(c)))
			for i := 0; i < len(c); i += 8 {
				var b [8]byte
				copy(b[:], c[i:])
				k = append(k, int64(binary.LittleEndian.Uint64(b[:])))
			}
		}
	}
	for _, n := range f.Counts {
		k = append(k, int64(n))
	}
	return k
}

func (c *Cache) hash(key []int64) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	var b [8]byte
	for _, v := range key {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	return h.Sum64()
}

func (c *Cache) get(h uint64, key []int64) ([]Status, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.buckets[h] {
		if e := el.Value.(*cacheEntry); slices.Equal(e.key, key) {
			c.ll.MoveToFront(el)
			return e.status, true
		}
	}
	return nil, false
}

func (c *Cache) put(h uint64, key []int64, status []Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.buckets[h] {
		if slices.Equal(el.Value.(*cacheEntry).key, key) {
			return
		}
	}
	c.buckets[h] = append(c.buckets[h], c.ll.PushFront(&cacheEntry{hash: h, key: key, status: slices.Clone(status)}))
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		e := old.Value.(*cacheEntry)
		b := slices.DeleteFunc(c.buckets[e.hash], func(x *list.Element) bool { return x == old })
		if len(b) == 0 {
			delete(c.buckets, e.hash)
		} else {
			c.buckets[e.hash] = b
		}
	}
}

// Len is the number of patterns held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
