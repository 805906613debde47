// Package sizeclass says how much heap an allocation takes: the sizes of the
// Go runtime's allocator classes, and what strings, objects with pointers and
// maps of a given size occupy. The verified-token cache of package
// scopedtoken bounds the bytes it holds with these figures (CacheMaxBytes in
// docs/configuration.md); a test there measures them against the heap.
package sizeclass
