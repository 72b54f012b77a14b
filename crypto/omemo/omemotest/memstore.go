// Package omemotest provides an in-memory omemo.Store (crypto/omemo, the
// OMEMO layer of XEP-0384 0.3) for tests of the OMEMO layer and of the
// engine around it. It is test infrastructure: only tests import it.
package omemotest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// Store is an in-memory omemo.Store. The zero value is ready; it is safe
// for concurrent use. Values are copied in and out, as a database would.
// Snapshot and Restore emulate a transaction that rolls back.
type Store struct {
	mu   sync.Mutex // guards data
	data map[client.AccountID]*account
}

var _ omemo.Store = (*Store)(nil)

// account is the state of one account.
type account struct {
	identity      *omemo.Identity
	preKeys       map[uint32]omemo.PreKey
	signedPreKeys map[uint32]omemo.SignedPreKey
	sessions      map[omemo.Address][]byte
	devices       map[jid.JID]map[uint32]omemo.Device
	trust         []omemo.TrustRecord
}

func newAccount() *account {
	return &account{
		preKeys:       make(map[uint32]omemo.PreKey),
		signedPreKeys: make(map[uint32]omemo.SignedPreKey),
		sessions:      make(map[omemo.Address][]byte),
		devices:       make(map[jid.JID]map[uint32]omemo.Device),
	}
}

func (a *account) clone() *account {
	c := newAccount()
	if a.identity != nil {
		id := cloneIdentity(*a.identity)
		c.identity = &id
	}
	for k, v := range a.preKeys {
		c.preKeys[k] = clonePreKey(v)
	}
	for k, v := range a.signedPreKeys {
		c.signedPreKeys[k] = cloneSigned(v)
	}
	for k, v := range a.sessions {
		c.sessions[k] = bytes.Clone(v)
	}
	for k, v := range a.devices {
		m := make(map[uint32]omemo.Device, len(v))
		for id, d := range v {
			m[id] = d
		}
		c.devices[k] = m
	}
	for _, r := range a.trust {
		c.trust = append(c.trust, cloneTrust(r))
	}
	return c
}

// acct returns the account's state, creating it. Caller holds mu.
func (s *Store) acct(id client.AccountID) *account {
	if s.data == nil {
		s.data = make(map[client.AccountID]*account)
	}
	a, ok := s.data[id]
	if !ok {
		a = newAccount()
		s.data[id] = a
	}
	return a
}

// Snapshot returns a copy of everything stored, for Restore.
func (s *Store) Snapshot() *Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Store{data: make(map[client.AccountID]*account, len(s.data))}
	for k, v := range s.data {
		c.data[k] = v.clone()
	}
	return c
}

// Restore replaces everything stored with a snapshot's content (a
// rollback).
func (s *Store) Restore(snap *Store) {
	c := snap.Snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data = c.data
}

func notFound(what string) error { return fmt.Errorf("%w: %s", omemo.ErrNotFound, what) }

func cloneIdentity(id omemo.Identity) omemo.Identity {
	id.PublicKey, id.PrivateKey = bytes.Clone(id.PublicKey), bytes.Clone(id.PrivateKey)
	return id
}

func clonePreKey(k omemo.PreKey) omemo.PreKey {
	k.PublicKey, k.PrivateKey = bytes.Clone(k.PublicKey), bytes.Clone(k.PrivateKey)
	return k
}

func cloneSigned(k omemo.SignedPreKey) omemo.SignedPreKey {
	k.PublicKey, k.PrivateKey, k.Signature = bytes.Clone(k.PublicKey), bytes.Clone(k.PrivateKey), bytes.Clone(k.Signature)
	return k
}

func cloneTrust(r omemo.TrustRecord) omemo.TrustRecord {
	r.IdentityKey = bytes.Clone(r.IdentityKey)
	return r
}

// Identity implements omemo.Store.
func (s *Store) Identity(_ context.Context, acct client.AccountID) (omemo.Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(acct)
	if a.identity == nil {
		return omemo.Identity{}, notFound("identity")
	}
	return cloneIdentity(*a.identity), nil
}

// PutIdentity implements omemo.Store.
func (s *Store) PutIdentity(_ context.Context, acct client.AccountID, id omemo.Identity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := cloneIdentity(id)
	s.acct(acct).identity = &c
	return nil
}

// PreKey implements omemo.Store.
func (s *Store) PreKey(_ context.Context, acct client.AccountID, id uint32) (omemo.PreKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.acct(acct).preKeys[id]
	if !ok {
		return omemo.PreKey{}, notFound("prekey")
	}
	return clonePreKey(k), nil
}

// PreKeys implements omemo.Store.
func (s *Store) PreKeys(_ context.Context, acct client.AccountID) ([]omemo.PreKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []omemo.PreKey
	for _, k := range s.acct(acct).preKeys {
		out = append(out, clonePreKey(k))
	}
	slices.SortFunc(out, func(x, y omemo.PreKey) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}

// PutPreKeys implements omemo.Store.
func (s *Store) PutPreKeys(_ context.Context, acct client.AccountID, keys ...omemo.PreKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(acct)
	for _, k := range keys {
		a.preKeys[k.ID] = clonePreKey(k)
	}
	return nil
}

// RemovePreKey implements omemo.Store.
func (s *Store) RemovePreKey(_ context.Context, acct client.AccountID, id uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.acct(acct).preKeys, id)
	return nil
}

// SignedPreKey implements omemo.Store.
func (s *Store) SignedPreKey(_ context.Context, acct client.AccountID, id uint32) (omemo.SignedPreKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.acct(acct).signedPreKeys[id]
	if !ok {
		return omemo.SignedPreKey{}, notFound("signed prekey")
	}
	return cloneSigned(k), nil
}

// SignedPreKeys implements omemo.Store.
func (s *Store) SignedPreKeys(_ context.Context, acct client.AccountID) ([]omemo.SignedPreKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []omemo.SignedPreKey
	for _, k := range s.acct(acct).signedPreKeys {
		out = append(out, cloneSigned(k))
	}
	slices.SortFunc(out, func(x, y omemo.SignedPreKey) int {
		return cmp.Or(x.Created.Compare(y.Created), cmp.Compare(x.ID, y.ID))
	})
	return out, nil
}

// PutSignedPreKey implements omemo.Store.
func (s *Store) PutSignedPreKey(_ context.Context, acct client.AccountID, k omemo.SignedPreKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acct(acct).signedPreKeys[k.ID] = cloneSigned(k)
	return nil
}

// RemoveSignedPreKey implements omemo.Store.
func (s *Store) RemoveSignedPreKey(_ context.Context, acct client.AccountID, id uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.acct(acct).signedPreKeys, id)
	return nil
}

// Session implements omemo.Store.
func (s *Store) Session(_ context.Context, acct client.AccountID, addr omemo.Address) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.acct(acct).sessions[addr]
	if !ok {
		return nil, notFound("session")
	}
	return bytes.Clone(r), nil
}

// PutSession implements omemo.Store.
func (s *Store) PutSession(_ context.Context, acct client.AccountID, addr omemo.Address, record []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acct(acct).sessions[addr] = bytes.Clone(record)
	return nil
}

// DeleteSession implements omemo.Store.
func (s *Store) DeleteSession(_ context.Context, acct client.AccountID, addr omemo.Address) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.acct(acct).sessions, addr)
	return nil
}

// SessionDevices implements omemo.Store.
func (s *Store) SessionDevices(_ context.Context, acct client.AccountID, owner jid.JID) ([]uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uint32
	for addr := range s.acct(acct).sessions {
		if addr.JID == owner {
			out = append(out, addr.Device)
		}
	}
	slices.Sort(out)
	return out, nil
}

// DeleteSessions implements omemo.Store.
func (s *Store) DeleteSessions(_ context.Context, acct client.AccountID, owner jid.JID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(acct)
	for addr := range a.sessions {
		if addr.JID == owner {
			delete(a.sessions, addr)
		}
	}
	return nil
}

// Devices implements omemo.Store.
func (s *Store) Devices(_ context.Context, acct client.AccountID, owner jid.JID) ([]omemo.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []omemo.Device
	for _, d := range s.acct(acct).devices[owner] {
		out = append(out, d)
	}
	slices.SortFunc(out, func(x, y omemo.Device) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}

// SetDeviceList implements omemo.Store.
func (s *Store) SetDeviceList(_ context.Context, acct client.AccountID, owner jid.JID, ids []uint32, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(acct)
	m := a.devices[owner]
	if m == nil {
		m = make(map[uint32]omemo.Device)
		a.devices[owner] = m
	}
	for id, d := range m {
		d.Active = false
		m[id] = d
	}
	for _, id := range ids {
		d, ok := m[id]
		if !ok {
			d = omemo.Device{ID: id, FirstSeen: at}
		}
		d.Active, d.LastSeen = true, at
		m[id] = d
	}
	return nil
}

// DeleteDevice implements omemo.Store.
func (s *Store) DeleteDevice(_ context.Context, acct client.AccountID, addr omemo.Address) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(acct)
	delete(a.devices[addr.JID], addr.Device)
	delete(a.sessions, addr)
	a.trust = slices.DeleteFunc(a.trust, func(r omemo.TrustRecord) bool { return r.Address == addr })
	return nil
}

// Trust implements omemo.Store.
func (s *Store) Trust(_ context.Context, acct client.AccountID, addr omemo.Address, identityKey []byte) (omemo.TrustRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.acct(acct).trust {
		if r.Address == addr && bytes.Equal(r.IdentityKey, identityKey) {
			return cloneTrust(r), nil
		}
	}
	return omemo.TrustRecord{}, notFound("trust")
}

// Trusts implements omemo.Store.
func (s *Store) Trusts(_ context.Context, acct client.AccountID, owner jid.JID) ([]omemo.TrustRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []omemo.TrustRecord
	for _, r := range s.acct(acct).trust {
		if r.JID == owner {
			out = append(out, cloneTrust(r))
		}
	}
	slices.SortStableFunc(out, func(x, y omemo.TrustRecord) int {
		return cmp.Or(cmp.Compare(x.Device, y.Device), x.FirstSeen.Compare(y.FirstSeen))
	})
	return out, nil
}

// SetTrust implements omemo.Store.
func (s *Store) SetTrust(_ context.Context, acct client.AccountID, r omemo.TrustRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(acct)
	for i, old := range a.trust {
		if old.Address == r.Address && bytes.Equal(old.IdentityKey, r.IdentityKey) {
			r.FirstSeen = old.FirstSeen
			a.trust[i] = cloneTrust(r)
			return nil
		}
	}
	a.trust = append(a.trust, cloneTrust(r))
	return nil
}
