package jwks

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxDeltaSeconds is where RFC 9111 §1.2.2 caps a delta-seconds value.
const maxDeltaSeconds = 2147483648

// freshness returns how long a response stays fresh by its headers (RFC 9111
// §4.2.1, for a private cache): no-store and no-cache mean 0, otherwise the
// smallest max-age, otherwise Expires minus Date (an invalid Expires, such as
// "0", is already expired: RFC 9111 §5.3), less the Age a cache in between
// reports. ok is false when the headers say nothing usable; a malformed
// directive (max-age=abc, max-age="60", max-age=-1) is ignored.
func freshness(h http.Header, now time.Time) (lifetime time.Duration, ok bool) {
	maxAge, haveMaxAge := int64(0), false
	for _, line := range h.Values("Cache-Control") {
		for directive := range strings.SplitSeq(line, ",") {
			name, value, hasValue := strings.Cut(strings.TrimSpace(directive), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0, true
			case "max-age":
				if !hasValue {
					continue
				}
				if secs, valid := deltaSeconds(strings.TrimSpace(value)); valid && (!haveMaxAge || secs < maxAge) {
					maxAge, haveMaxAge = secs, true
				}
			}
		}
	}
	switch {
	case haveMaxAge:
		lifetime = time.Duration(maxAge) * time.Second
	case len(h.Values("Expires")) > 0:
		expires, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return 0, true
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = now
		}
		lifetime = expires.Sub(date)
	default:
		return 0, false
	}
	if age, valid := deltaSeconds(strings.TrimSpace(h.Get("Age"))); valid {
		lifetime -= time.Duration(age) * time.Second
	}
	return max(lifetime, 0), true
}

// deltaSeconds parses RFC 9111 delta-seconds: digits only, capped.
func deltaSeconds(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxDeltaSeconds {
		n = maxDeltaSeconds // only overflow can fail here
	}
	return n, true
}

// refreshAfter is the time until the next background fetch after a
// successful response with header h: the response's freshness, kept between
// MinRefreshInterval and RefreshInterval, or RefreshInterval when the
// response says nothing. RefreshInterval wins when it is the smaller bound.
func (r *Set) refreshAfter(h http.Header) time.Duration {
	d, ok := freshness(h, time.Now())
	if !ok {
		return r.cfg.RefreshInterval
	}
	return min(max(d, r.cfg.MinRefreshInterval), r.cfg.RefreshInterval)
}

// schedule sets when the background loop fetches next: interval after now,
// where interval is what the last successful response asked for (a failed
// fetch, header nil, keeps it), and wakes the loop so that it sees the change.
func (r *Set) schedule(h http.Header, ok bool) {
	r.mu.Lock()
	if ok {
		r.interval = r.refreshAfter(h)
	}
	r.next = time.Now().Add(r.interval)
	r.mu.Unlock()
	select {
	case r.rescheduled <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// untilRefresh is how long the background loop waits before its next fetch.
func (r *Set) untilRefresh() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Until(r.next)
}

// refreshLoop fetches whenever the schedule says so, until Close. Every fetch
// (background, unknown kid, Refresh) reschedules, so the loop only ever
// waits for the time the last one set.
func (r *Set) refreshLoop() {
	defer close(r.done)
	t := time.NewTimer(r.untilRefresh())
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.rescheduled:
		case <-t.C:
			if r.untilRefresh() <= 0 {
				call, _ := r.startFetch(context.Background(), FetchScheduled)
				<-call.done
			}
		}
		t.Reset(r.untilRefresh())
	}
}
