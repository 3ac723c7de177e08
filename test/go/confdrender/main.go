// confdrender renders a confd template with Go's own text/template and confd's function map, over
// a JSON file of key → value: the reference perch's converted templates are compared with.
//
// Usage: confdrender KEYS.json TEMPLATE > output
//
// Only the standard library: the store functions follow confd's (memkv's) semantics, written here.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
)

type KVPair struct {
	Key   string
	Value string
}

type store map[string]string

func (s store) getv(key string, v ...string) (string, error) {
	if value, ok := s[key]; ok {
		return value, nil
	}
	if len(v) > 0 {
		return v[0], nil
	}
	return "", fmt.Errorf("key does not exist: %s", key)
}

func (s store) get(key string) (KVPair, error) {
	if value, ok := s[key]; ok {
		return KVPair{key, value}, nil
	}
	return KVPair{}, fmt.Errorf("key does not exist: %s", key)
}

func (s store) exists(key string) bool {
	_, ok := s[key]
	return ok
}

// gets: every pair whose key matches the glob (path.Match), sorted by key.
func (s store) gets(pattern string) ([]KVPair, error) {
	pairs := make([]KVPair, 0)
	for key, value := range s {
		matched, err := path.Match(pattern, key)
		if err != nil {
			return nil, err
		}
		if matched {
			pairs = append(pairs, KVPair{key, value})
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].Key < pairs[j].Key })
	return pairs, nil
}

// getvs: the values of every key matching the glob, sorted by value.
func (s store) getvs(pattern string) ([]string, error) {
	values := make([]string, 0)
	pairs, err := s.gets(pattern)
	if err != nil {
		return nil, err
	}
	for _, kv := range pairs {
		values = append(values, kv.Value)
	}
	sort.Strings(values)
	return values, nil
}

func terms(p string) []string {
	return strings.Split(path.Clean(p), "/")
}

func samePrefix(prefix, test []string) bool {
	if len(test) < len(prefix) {
		return false
	}
	for i := range prefix {
		if prefix[i] != test[i] {
			return false
		}
	}
	return true
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ls: the names of the children of dir (a key equal to dir gives its own base name).
func (s store) ls(dir string) []string {
	names := map[string]bool{}
	prefix := terms(dir)
	for key := range s {
		if key == dir {
			names[path.Base(key)] = true
			continue
		}
		if samePrefix(prefix, terms(path.Dir(key))) {
			rest := strings.TrimPrefix(strings.TrimPrefix(key, dir), "/")
			names[strings.Split(rest, "/")[0]] = true
		}
	}
	return sortedSet(names)
}

// lsdir: the names of the children of dir that have children.
func (s store) lsdir(dir string) []string {
	names := map[string]bool{}
	prefix := terms(dir)
	for key := range s {
		if !strings.HasPrefix(key, dir) {
			continue
		}
		items := terms(path.Dir(key))
		if samePrefix(prefix, items) && len(items)-len(prefix) >= 1 {
			names[items[len(prefix)]] = true
		}
	}
	return sortedSet(names)
}

func jsonObject(data string) (map[string]interface{}, error) {
	var ret map[string]interface{}
	err := json.Unmarshal([]byte(data), &ret)
	return ret, err
}

func jsonArray(data string) ([]interface{}, error) {
	var ret []interface{}
	err := json.Unmarshal([]byte(data), &ret)
	return ret, err
}

func getenv(key string, v ...string) string {
	value := os.Getenv(key)
	if value == "" && len(v) > 0 {
		return v[0]
	}
	return value
}

// hashToIPv4 is Calico's confd addition: the first four bytes of SHA-256(name) as a dotted quad.
func hashToIPv4(name string) string {
	sum := sha256.Sum256([]byte(name))
	return net.IP(sum[:4]).String()
}

func funcMap(s store) template.FuncMap {
	return template.FuncMap{
		"base":       path.Base,
		"split":      strings.Split,
		"json":       jsonObject,
		"jsonArray":  jsonArray,
		"dir":        path.Dir,
		"getenv":     getenv,
		"join":       strings.Join,
		"toUpper":    strings.ToUpper,
		"toLower":    strings.ToLower,
		"contains":   strings.Contains,
		"replace":    strings.Replace,
		"trimSuffix": strings.TrimSuffix,
		"add":        func(a, b int) int { return a + b },
		"sub":        func(a, b int) int { return a - b },
		"mul":        func(a, b int) int { return a * b },
		"div":        func(a, b int) int { return a / b },
		"mod":        func(a, b int) int { return a % b },
		"exists":     s.exists,
		"ls":         s.ls,
		"lsdir":      s.lsdir,
		"get":        s.get,
		"gets":       s.gets,
		"getv":       s.getv,
		"getvs":      s.getvs,
		"hashToIPv4": hashToIPv4,
	}
}

func run(keysFile, templateFile string) error {
	data, err := os.ReadFile(keysFile)
	if err != nil {
		return err
	}
	var keys map[string]string
	if err := json.Unmarshal(data, &keys); err != nil {
		return err
	}
	if keys == nil {
		return errors.New("keys file holds no object")
	}
	// As confd does: the template is named after its file and executed with no data.
	tmpl, err := template.New(filepath.Base(templateFile)).Funcs(funcMap(store(keys))).ParseFiles(templateFile)
	if err != nil {
		return err
	}
	// Nothing is written unless the whole template renders, as confd writes nothing then.
	var out bytes.Buffer
	if err := tmpl.Execute(&out, nil); err != nil {
		return err
	}
	_, err = os.Stdout.Write(out.Bytes())
	return err
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: confdrender KEYS.json TEMPLATE")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
