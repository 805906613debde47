package scopedtoken

import "time"

// instant is a point in time as Unix seconds and nanoseconds (0 to 1e9-1),
// the form numericDate keeps its claims in. checkTimes runs on every request,
// cached or not, so it reads the clock once into an instant and compares
// integers, rather than building a time.Time from each claim and adding the
// leeway to each: the same comparisons on the wall clock, as time.Time makes
// them when one side has no monotonic reading.
type instant struct {
	sec  int64
	nsec int32
}

func instantOf(t time.Time) instant { return instant{t.Unix(), int32(t.Nanosecond())} }

func (d numericDate) instant() instant { return instant{d.sec, d.nsec} }

// span is a duration split as an instant is; both parts have its sign.
type span struct {
	sec  int64
	nsec int32
}

func spanOf(d time.Duration) span { return span{int64(d / time.Second), int32(d % time.Second)} }

func (a instant) add(d span) instant {
	s, n := a.sec+d.sec, a.nsec+d.nsec
	switch {
	case n >= 1e9:
		s, n = s+1, n-1e9
	case n < 0:
		s, n = s-1, n+1e9
	}
	return instant{s, n}
}

func (a instant) before(b instant) bool {
	return a.sec < b.sec || a.sec == b.sec && a.nsec < b.nsec
}

// checkTimes applies exp, nbf, iat and the maximum lifetime at now. The
// leeway is added to now (now-leeway >= exp is now >= exp+leeway), once per
// bound. Claim dates lie within years 0 to 9999 and durations within 292
// years, so nothing overflows for a clock in those years; a Config.Now that
// returns an instant near the ends of int64 seconds wraps, and such a token
// is refused as expired (it fails closed).
func (m *Middleware) checkTimes(v *verified, now time.Time) *Error {
	t := instantOf(now)
	if v.exp.set && !t.add(m.negLeeway).before(v.exp.instant()) {
		return errExpired
	}
	if v.nbf.set || v.iat.set {
		late := t.add(m.posLeeway)
		if v.nbf.set && late.before(v.nbf.instant()) {
			return errNotYetValid
		}
		if v.iat.set && late.before(v.iat.instant()) {
			return errIssuedInFuture
		}
	}
	if m.maxLifetime > 0 && v.exp.set && t.add(m.lifetimeLeeway).before(v.exp.instant()) {
		return errLifetimeTooLong
	}
	return nil
}
