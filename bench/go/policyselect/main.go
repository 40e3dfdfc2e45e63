// Command policyselect is the Go reference for bench/policy-vs-go.sh: it picks
// one tag out of a list the way Flux's image-reflector-controller does for an
// ImagePolicy, using Masterminds semver v3 (Debian's
// golang-github-masterminds-semver-dev, built in GOPATH mode).
//
// Written for this benchmark from Flux's documented behaviour; it is not
// Flux's code.
//
//	policyselect -tags FILE (-semver RANGE | -alphabetical asc|desc | -numerical asc|desc)
//	             [-filter PATTERN [-extract TEMPLATE]]
//
// It prints the selected (original) tag on stdout and exits 0; prints
// "no match" on stderr and exits 1 when nothing is selected; exits 2 on
// invalid input (bad flags, range, pattern, or a non-numeric candidate in
// numerical mode).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/Masterminds/semver"
)

func fail(code int, format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "policyselect: "+format+"\n", a...)
	os.Exit(code)
}

func readTags(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(2, "%v", err)
	}
	tags := make([]string, 0, bytes.Count(data, []byte{'\n'})+1)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		tags = append(tags, line)
	}
	if err := sc.Err(); err != nil {
		fail(2, "reading %s: %v", path, err)
	}
	return tags
}

// filterTags keeps the tags the (unanchored) pattern matches. The candidate
// is the tag itself, or the extract template expanded against the match.
// Candidates are the keys of a candidate->original map, a later tag
// overwriting an earlier one with the same candidate, as in Flux.
func filterTags(tags []string, pattern, extract string) ([]string, map[string]string) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		fail(2, "invalid filter pattern: %v", err)
	}
	filtered := make(map[string]string)
	for _, tag := range tags {
		m := re.FindStringSubmatchIndex(tag)
		if m == nil {
			continue
		}
		cand := tag
		if extract != "" {
			cand = string(re.ExpandString(nil, extract, tag, m))
		}
		filtered[cand] = tag
	}
	cands := make([]string, 0, len(filtered))
	for c := range filtered {
		cands = append(cands, c)
	}
	return cands, filtered
}

// selectSemver returns the greatest version satisfying the range; the first
// of several equal versions wins (only strictly greater ones replace it).
func selectSemver(cands []string, rng string) (string, bool) {
	c, err := semver.NewConstraint(rng)
	if err != nil {
		fail(2, "invalid semver range %q: %v", rng, err)
	}
	var best *semver.Version
	bestTag := ""
	for _, tag := range cands {
		// Flux's tag parser: fewer than three dot-separated pieces is not a
		// version, whatever Masterminds' lenient parser would say.
		if len(strings.SplitN(tag, ".", 3)) < 3 {
			continue
		}
		v, err := semver.NewVersion(tag)
		if err != nil {
			continue
		}
		if !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best = v
			bestTag = tag
		}
	}
	return bestTag, best != nil
}

func selectAlphabetical(cands []string, order string) (string, bool) {
	if len(cands) == 0 {
		return "", false
	}
	best := cands[0]
	for _, t := range cands[1:] {
		if (order == "asc" && t > best) || (order == "desc" && t < best) {
			best = t
		}
	}
	return best, true
}

func selectNumerical(cands []string, order string) (string, bool) {
	if len(cands) == 0 {
		return "", false
	}
	best := ""
	var bestV float64
	for i, t := range cands {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			fail(2, "failed to parse invalid numeric value %q: %v", t, err)
		}
		// On equal values the later candidate wins.
		if i == 0 || (order == "asc" && v >= bestV) || (order == "desc" && v <= bestV) {
			best, bestV = t, v
		}
	}
	return best, true
}

func main() {
	tagsFile := flag.String("tags", "", "file with one tag per line")
	semverRange := flag.String("semver", "", "semver range (Masterminds syntax)")
	alphabetical := flag.String("alphabetical", "", "asc|desc")
	numerical := flag.String("numerical", "", "asc|desc")
	filter := flag.String("filter", "", "regexp the tags must match (unanchored)")
	extract := flag.String("extract", "", "template built from the filter's match, e.g. $ts")
	flag.Parse()

	if *tagsFile == "" || flag.NArg() != 0 {
		fail(2, "usage: policyselect -tags FILE (-semver R | -alphabetical asc|desc | -numerical asc|desc) [-filter P [-extract T]]")
	}
	n := 0
	for _, s := range []string{*semverRange, *alphabetical, *numerical} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		fail(2, "exactly one of -semver, -alphabetical, -numerical is required")
	}
	for _, o := range []string{*alphabetical, *numerical} {
		if o != "" && o != "asc" && o != "desc" {
			fail(2, "order must be asc or desc, not %q", o)
		}
	}
	if *extract != "" && *filter == "" {
		fail(2, "-extract needs -filter")
	}

	tags := readTags(*tagsFile)
	cands := tags
	var original map[string]string
	if *filter != "" {
		cands, original = filterTags(tags, *filter, *extract)
	}

	var sel string
	var ok bool
	switch {
	case *semverRange != "":
		sel, ok = selectSemver(cands, *semverRange)
	case *alphabetical != "":
		sel, ok = selectAlphabetical(cands, *alphabetical)
	default:
		sel, ok = selectNumerical(cands, *numerical)
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "no match")
		os.Exit(1)
	}
	if original != nil {
		sel = original[sel]
	}
	fmt.Println(sel)
}
