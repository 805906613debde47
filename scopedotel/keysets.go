package scopedotel

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// ObserveKeySet reports the health of set (a *jwks.Set) under
// name, read from its Stats at every collection: fetches by result, keys in
// use, healthy, and the age of its last successful fetch. name must be
// non-empty and not yet observed; the set is observed for as long as m lives.
func (m *Metrics) ObserveKeySet(name string, set StatsSource) error {
	if name == "" || set == nil {
		return errors.New("scopedotel: ObserveKeySet needs a name and a key set")
	}
	m.keySetsMu.Lock()
	defer m.keySetsMu.Unlock()
	if _, dup := m.keySets[name]; dup {
		return fmt.Errorf("scopedotel: a key set named %q is already observed", name)
	}
	m.keySets[name] = set
	return nil
}

func (m *Metrics) observeKeySets(o metric.Observer, fetches metric.Int64ObservableCounter,
	keys, healthy metric.Int64ObservableGauge, age metric.Float64ObservableGauge) {
	m.keySetsMu.Lock()
	defer m.keySetsMu.Unlock()
	for name, set := range m.keySets {
		st := set.Stats()
		named := KeySetKey.String(name)
		o.ObserveInt64(fetches, int64(st.Fetches-st.Failures), metric.WithAttributes(named, FetchResultKey.String("success")))
		o.ObserveInt64(fetches, int64(st.Failures), metric.WithAttributes(named, FetchResultKey.String("failure")))
		o.ObserveInt64(keys, int64(st.Keys), metric.WithAttributes(named))
		up := int64(0)
		if st.Healthy {
			up = 1
		}
		o.ObserveInt64(healthy, up, metric.WithAttributes(named))
		if !st.LastSuccess.IsZero() {
			o.ObserveFloat64(age, time.Since(st.LastSuccess).Seconds(), metric.WithAttributes(named))
		}
	}
}
