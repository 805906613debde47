package scopedtoken

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNameFingerprintClashes: an object whose different names share a
// fingerprint moves to the map once they have clashed more than
// maxSigClashes times, so that names written to clash cost a few
// comparisons, not one per pair; and names of one key share a fingerprint.
func TestNameFingerprintClashes(t *testing.T) {
	for _, tc := range []struct {
		names   int
		wantMap bool
	}{
		{names: 3, wantMap: false},             // 0+1+2 = 3 clashes
		{names: 4, wantMap: true},              // 0+1+2+3 = 6 clashes
		{names: smallNames + 1, wantMap: true}, // names that do not clash move at smallNames
	} {
		for _, exact := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d names exact %v", tc.names, exact), func(t *testing.T) {
				var b strings.Builder
				b.WriteByte('{')
				for i := range tc.names {
					if i > 0 {
						b.WriteByte(',')
					}
					if tc.names > smallNames {
						fmt.Fprintf(&b, `"n%d":0`, i)
					} else {
						fmt.Fprintf(&b, `"x%cy":0`, 'a'+i)
					}
				}
				b.WriteByte('}')
				s := scanner{data: []byte(b.String()), exactNames: exact}
				var it objectIter
				require.True(t, it.begin(&s))
				var maps []bool
				for it.next(&s) {
					s.skipValue()
					maps = append(maps, it.big != nil)
				}
				require.Equal(t, jsonOK, s.err)
				require.Len(t, maps, tc.names)
				assert.Equal(t, tc.wantMap, maps[len(maps)-1])
			})
		}
	}
	for _, pair := range [][2]string{{"key", "KEY"}, {"key", "\u212aey"}, {"scope", "\u017fcope"}, {"\u00e9t\u00e9", "\u00c9T\u00c9"}, {"", ""}} {
		assert.Equal(t, nameSig([]byte(pair[0]), true), nameSig([]byte(pair[1]), true), "%q %q", pair[0], pair[1])
	}
	assert.NotEqual(t, nameSig([]byte("key"), false), nameSig([]byte("KEY"), false))
}
