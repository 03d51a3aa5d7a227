// One router's IPv4 routes (control thread) and the read-side table workers look them up in.
//
// Small routers get an immutable CompactTable that is rebuilt on every change; a router with
// more than compact_max_routes routes gets an LpmTable updated in place, and goes back to a
// compact table when it falls below half that (hysteresis). See docs/route-tables.md.
//
// Publication protocol for the caller (the control thread):
//   if (rr.apply(dels, adds)) { publish a version holding rr.table(); synchronize RCU;
//                               rr.release_retired(); }
// apply() returning false means the change is already visible through the same table pointer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "route_set.h"
#include "route_table.h"

struct rte_rcu_qsbr;

namespace dvr::dp {

class LpmTable;

struct RouteTableOptions {
  size_t compact_max_routes = 4096;
  // The workers' QSBR variable (ConfigPublisher::qsbr()); it must outlive the RouterRoutes.
  // nullptr only when no thread reads the tables concurrently (tests).
  rte_rcu_qsbr* qsbr = nullptr;
};

class RouterRoutes {
 public:
  using Route = std::pair<RoutePrefix, NextHopId>;

  RouterRoutes(std::string name, RouteTableOptions opts);
  ~RouterRoutes();  // frees every table; the caller guarantees no reader uses them any more
  RouterRoutes(const RouterRoutes&) = delete;
  RouterRoutes& operator=(const RouterRoutes&) = delete;

  // Applies all deletes, then all adds. Host bits of prefixes are ignored; adding an existing
  // prefix replaces its next hop; deleting a missing prefix is ignored; a prefix both deleted and
  // added ends up added (and is never absent in between). Returns true if table() changed.
  //
  // Throws std::invalid_argument (depth > 32, next hop > kMaxNextHop) before changing anything.
  // Throws std::runtime_error when table memory cannot be allocated: a rebuilt table leaves
  // everything as it was; an in-place update keeps the operations that preceded the failing one.
  // Either way routes() and table() agree.
  bool apply(const std::vector<RoutePrefix>& dels, const std::vector<Route>& adds);

  const RouteTable* table() const { return table_.get(); }
  // Frees the tables replaced by earlier apply() calls. Call after RCU synchronization.
  void release_retired();

  std::vector<Route> routes() const;  // sorted by (address, depth)
  size_t route_count() const { return routes_.size(); }
  NextHopId lookup_slow(uint32_t ip) const { return routes_.lookup(ip); }
  const std::string& name() const { return name_; }

 private:
  using Change = std::pair<RouteSet::Key, NextHopId>;  // kNoRoute: delete

  std::unique_ptr<RouteTable> build(const RouteSet& set, bool lpm) const;
  void update_in_place(const std::vector<Change>& changes);

  std::string name_;
  RouteTableOptions opts_;
  RouteSet routes_;
  std::unique_ptr<RouteTable> table_;
  LpmTable* lpm_ = nullptr;  // table_ when it is an LpmTable
  std::vector<std::unique_ptr<RouteTable>> retired_;
};

}  // namespace dvr::dp
