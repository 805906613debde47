// Package integrations shows and tests the scopedtoken middleware with
// net/http's ServeMux, chi, gin, echo and rs/cors. The adapters live in
// scopedgin and scopedecho; the runnable examples in cmd.
package integrations
