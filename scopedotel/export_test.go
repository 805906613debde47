package scopedotel

// MaxAttributeSets exposes maxAttributeSets to the tests of the requests
// counter beyond it.
const MaxAttributeSets = maxAttributeSets
