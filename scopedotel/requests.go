package scopedotel

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// requestCount is the request counter's value for one attribute set.
type requestCount struct {
	set attribute.Set
	n   atomic.Int64
}

// requestCounts holds the request counter (RequestsName) as the module's own
// atomics, one per attribute set, which the SDK reads at each collection
// through an observable counter: a decision costs one atomic add instead of
// the SDK's synchronous Add, which normalizes and hashes the attribute set
// on every call (BENCHMARKS.md, "Telemetry on a cache hit"). The values are
// cumulative and only grow, as a counter's must; each reader gets them
// whole at each of its collections. A set is never forgotten, as the SDK's
// cumulative storage of a synchronous counter never forgets one.
type requestCounts struct {
	mu    sync.Mutex
	cells map[attribute.Distinct]*requestCount
	all   []*requestCount // append-only, for observe
}

// cell returns the count of set, created at zero on first use. OnDecision
// keeps the cell of each ready-made attribute set, so that it calls this only
// when it builds a set.
func (c *requestCounts) cell(set attribute.Set) *requestCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc, ok := c.cells[set.Equivalent()]; ok {
		return rc
	}
	if c.cells == nil {
		c.cells = map[attribute.Distinct]*requestCount{}
	}
	rc := &requestCount{set: set}
	c.cells[set.Equivalent()] = rc
	c.all = append(c.all, rc)
	return rc
}

// observe is the observable counter's callback: every set counted so far,
// with its total. A cell created but not yet added to is left out, as a
// synchronous counter has no series before its first Add.
func (c *requestCounts) observe(_ context.Context, o metric.Int64Observer) error {
	c.mu.Lock()
	all := c.all // cells are appended, never changed nor removed
	c.mu.Unlock()
	for _, rc := range all {
		if n := rc.n.Load(); n > 0 {
			o.Observe(n, metric.WithAttributeSet(rc.set))
		}
	}
	return nil
}
