package strictjson

// This file reads objects and arrays. The checks of member names are in
// names.go.

func (s *Scanner) enter() bool {
	s.depth++
	if s.depth > MaxDepth {
		s.fail(Syntax)
		return false
	}
	return true
}

func (s *Scanner) skipObject() {
	var it Object
	if !it.Begin(s) {
		return
	}
	for it.Next(s) {
		s.SkipValue()
	}
}

func (s *Scanner) skipArray() {
	var it Array
	if !it.Begin(s) {
		return
	}
	for it.Next(s) {
		s.SkipValue()
	}
}

// Object walks the members of one object and refuses duplicate and
// case-folded names. After Next returns true, Name holds the member's
// unescaped name and the cursor is at its value, which the caller must
// consume.
type Object struct {
	Name    []byte
	At      int // where Name starts in the data; negative when unescaped (see Scanner.Text)
	first   bool
	start   int               // this object's names are s.Names[start:]
	clashes int               // pairs of different names with one fingerprint (see add)
	big     map[string][]byte // folded name -> name as written, for a large object
}

// Begin reads the opening brace of an object at the cursor.
func (it *Object) Begin(s *Scanner) bool {
	if !s.enter() || !s.consume('{') {
		s.fail(Syntax)
		return false
	}
	it.first = true
	it.start = len(s.Names)
	return true
}

// Next moves to the next member, or past the closing brace and returns
// false. It returns false at the first error too.
func (it *Object) Next(s *Scanner) bool {
	if s.err != OK {
		return false
	}
	if s.consume('}') {
		s.depth--
		s.Names = s.Names[:it.start]
		return false
	}
	if !it.first {
		if !s.consume(',') {
			s.fail(Syntax)
			return false
		}
	}
	it.first = false
	var at int
	it.Name, at = s.readName() // after a comma this also refuses a trailing one
	it.At = at
	if s.err != OK || !s.consume(':') {
		s.fail(Syntax)
		return false
	}
	if !s.countValue() {
		return false
	}
	if e := it.add(s, it.Name, at); e != OK {
		s.fail(e)
		return false
	}
	return true
}

// Array walks the elements of one array. After Next returns true, the
// cursor is at an element, which the caller must consume.
type Array struct{ n int }

// Begin reads the opening bracket of an array at the cursor.
func (it *Array) Begin(s *Scanner) bool {
	if !s.enter() || !s.consume('[') {
		s.fail(Syntax)
		return false
	}
	return true
}

// Next moves to the next element, or past the closing bracket and returns
// false. It returns false at the first error too.
func (it *Array) Next(s *Scanner) bool {
	if s.err != OK {
		return false
	}
	if s.consume(']') {
		s.depth--
		return false
	}
	if it.n > 0 && !s.consume(',') {
		s.fail(Syntax)
		return false
	}
	it.n++
	if s.Peek() == ']' {
		s.fail(Syntax) // a leading or trailing comma
		return false
	}
	return s.countValue()
}
