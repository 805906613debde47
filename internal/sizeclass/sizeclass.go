package sizeclass

import (
	"math/bits"
	"slices"
)

// String is the heap that a string or byte slice of n bytes, allocated on
// its own, takes. One-byte strings are static; below 16 bytes the runtime
// packs pointer-free allocations together.
func String(n int) int {
	switch {
	case n <= 1:
		return 0
	case n < 16:
		return n
	}
	return Round(n)
}

// Object is the heap that an allocation of n bytes holding pointers takes:
// one above 512 bytes carries an 8-byte header.
func Object(n int) int {
	if n > 512 {
		n += 8
	}
	return Round(n)
}

// Map is the heap of a map made with a size hint of n and holding at most n
// entries, whose key and element take slotBytes together. It follows Go's
// Swiss tables (internal/runtime/maps): a 48-byte header, then groups of 8
// slots behind 8 control bytes; up to 8 entries fit one group, more get a
// directory of tables (32 bytes each, at most 1024 slots) sized for n at an
// average load of 7/8.
func Map(n, slotBytes int) int {
	const header, tableHeader, slotsPerGroup, maxTableSlots = 48, 32, 8, 1024
	group := slotsPerGroup + slotsPerGroup*slotBytes
	switch {
	case n == 0:
		return Round(header)
	case n <= slotsPerGroup:
		return Round(header) + Object(group)
	}
	target := n * slotsPerGroup / 7
	tables := CeilPow2((target + maxTableSlots - 1) / maxTableSlots)
	slots := CeilPow2(max(slotsPerGroup, target/tables))
	return Round(header) + Object(tables*8) +
		tables*(Round(tableHeader)+Object(slots/slotsPerGroup*group))
}

// CeilPow2 is the least power of two at least n, for n > 0: the size of a
// map's tables, and of any table that is indexed by masking a hash.
func CeilPow2(n int) int { return 1 << bits.Len(uint(n-1)) }

// Round rounds n up to the runtime allocator's size class, or to whole pages
// above the largest class.
func Round(n int) int {
	switch {
	case n <= 0:
		return 0
	case n <= smallMax:
		return int(small[(n+7)/8])
	case n > int(classes[len(classes)-1]):
		return (n + 8191) &^ 8191
	}
	i, _ := slices.BinarySearch(classes[:], uint16(n))
	return int(classes[i])
}

// small maps (n+7)/8 to the size class of n, for n up to smallMax: the
// common sizes cost a lookup, as in the runtime.
var small = func() (t [smallMax/8 + 1]uint16) {
	c := 0
	for i := range t {
		for int(classes[c]) < 8*i {
			c++
		}
		t[i] = classes[c]
	}
	return t
}()

const smallMax = 1024

// classes are the object sizes of the Go runtime's size classes
// (internal/runtime/gc/sizeclasses.go, Go 1.26).
var classes = [...]uint16{
	8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
	1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
	6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
	20480, 21760, 24576, 27264, 28672, 32768,
}
