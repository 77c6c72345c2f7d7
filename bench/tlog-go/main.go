// Command tlog-go follows a dmf registry's log through its C2SP tlog-tiles with Go's
// reference implementation (golang.org/x/mod/sumdb/note and sumdb/tlog, Debian's
// golang-golang-x-mod-dev): it opens the checkpoint with the log's verifier key, reads the
// hash tiles with tlog's tile reader (which checks every tile against the signed tree),
// recomputes the root, proves and checks the inclusion of every entry of the entry bundles,
// and proves and checks the tree's consistency with a few earlier sizes.
//
//	tlog-go BASE_URL VERIFIER_KEY_FILE
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func get(url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		fail("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return body
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlog-go: "+format+"\n", args...)
	os.Exit(1)
}

// tiles reads C2SP tlog-tiles, whose paths have no height segment (tlog's have "tile/8/").
type tiles struct{ base string }

func (t tiles) Height() int { return 8 }

func (t tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		path := strings.Replace(tile.Path(), "tile/8/", "tile/", 1)
		out[i] = get(t.base + "/log/" + path)
		if len(out[i]) != tile.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes", path, len(out[i]))
		}
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func main() {
	if len(os.Args) != 3 {
		fail("usage: tlog-go BASE_URL VERIFIER_KEY_FILE")
	}
	base := strings.TrimRight(os.Args[1], "/")
	vkey, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("%v", err)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		fail("verifier key: %v", err)
	}
	msg := get(base + "/log/checkpoint")
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("checkpoint root: %v", err)
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, tiles{base})
	th, err := tlog.TreeHash(size, hr)
	if err != nil || th != root {
		fail("tree hash of %d: %v %v", size, th, err)
	}
	proved := 0
	for start := int64(0); start < size; start += 256 {
		w := size - start
		path := fmt.Sprintf("tile/entries/%s", tileIndex(start/256))
		if w < 256 {
			path += fmt.Sprintf(".p/%d", w)
		}
		bundle := get(base + "/log/" + path)
		for i := int64(0); len(bundle) > 0; i++ {
			l := int(binary.BigEndian.Uint16(bundle))
			entry := bundle[2 : 2+l]
			bundle = bundle[2+l:]
			if !bytes.HasPrefix(entry, []byte("{")) {
				fail("entry %d is not a JSON leaf", start+i)
			}
			p, err := tlog.ProveRecord(size, start+i, hr)
			if err != nil {
				fail("prove %d: %v", start+i, err)
			}
			if err := tlog.CheckRecord(p, size, th, start+i, tlog.RecordHash(entry)); err != nil {
				fail("check %d: %v", start+i, err)
			}
			proved++
		}
	}
	if int64(proved) != size {
		fail("%d entries for %d leaves", proved, size)
	}
	consistent := 0
	for _, old := range []int64{1, size / 3, size / 2, size - 1} {
		if old < 1 || old >= size {
			continue
		}
		oh, err := tlog.TreeHash(old, hr)
		if err != nil {
			fail("tree hash of %d: %v", old, err)
		}
		p, err := tlog.ProveTree(size, old, hr)
		if err != nil {
			fail("prove %d to %d: %v", old, size, err)
		}
		if err := tlog.CheckTree(p, size, th, old, oh); err != nil {
			fail("check %d to %d: %v", old, size, err)
		}
		consistent++
	}
	fmt.Printf("tlog-go: checkpoint of %s verified; tree of %d leaves rebuilt from the tiles to its root; %d inclusion proofs and %d consistency proofs checked\n",
		n.Sigs[0].Name, size, proved, consistent)
}

// tileIndex writes N as tlog-tiles does: groups of three digits, each but the last after an x.
func tileIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	return s
}
