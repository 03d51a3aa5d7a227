#include "router_routes.h"

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "compact_table.h"
#include "lpm_table.h"

namespace dvr::dp {

RouterRoutes::RouterRoutes(std::string name, RouteTableOptions opts)
    : name_(std::move(name)), opts_(opts), table_(build(routes_, false)) {}

RouterRoutes::~RouterRoutes() = default;

bool RouterRoutes::apply(const std::vector<RoutePrefix>& dels, const std::vector<Route>& adds) {
  // Validate and reduce the batch to its net effect per prefix before touching anything.
  std::map<RouteSet::Key, NextHopId> batch;
  for (const RoutePrefix& p : dels) batch[RouteSet::key(RouteSet::normalize(p))] = kNoRoute;
  for (const auto& [p, hop] : adds) {
    if (hop > kMaxNextHop) {
      throw std::invalid_argument("route next hop " + std::to_string(hop) +
                                  " is out of range (0.." + std::to_string(kMaxNextHop) + ")");
    }
    batch[RouteSet::key(RouteSet::normalize(p))] = hop;
  }
  std::vector<Change> changes;
  size_t count = routes_.size();
  for (const auto& [k, hop] : batch) {
    const std::optional<NextHopId> cur = routes_.find({k.first, k.second});
    if (hop == kNoRoute ? !cur : cur == hop) continue;  // no effect
    if (hop == kNoRoute) {
      --count;
    } else if (!cur) {
      ++count;
    }
    changes.emplace_back(k, hop);
  }
  if (changes.empty()) return false;

  const bool want_lpm =
      lpm_ != nullptr ? count >= opts_.compact_max_routes / 2 : count > opts_.compact_max_routes;
  if (want_lpm && lpm_ != nullptr) {
    update_in_place(changes);
    return false;
  }

  // Build the replacement from a copy (cheap: either the current set is compact-sized, or the
  // batch removes nearly all of it), then swap without anything left that can fail.
  RouteSet next = routes_;
  for (const auto& [k, hop] : changes) {
    if (hop == kNoRoute) {
      next.erase({k.first, k.second});
    } else {
      next.set({k.first, k.second}, hop);
    }
  }
  std::unique_ptr<RouteTable> table = build(next, want_lpm);
  retired_.reserve(retired_.size() + 1);
  routes_ = std::move(next);
  retired_.push_back(std::move(table_));
  table_ = std::move(table);
  lpm_ = want_lpm ? static_cast<LpmTable*>(table_.get()) : nullptr;
  return true;
}

void RouterRoutes::update_in_place(const std::vector<Change>& changes) {
  for (const auto& [k, hop] : changes) {
    const RoutePrefix p{k.first, k.second};
    // The addresses whose answer is p's: p minus its longer routes (p itself does not matter).
    const std::vector<AddrRange> ranges = routes_.uncovered(p);
    if (hop == kNoRoute) {
      lpm_->assign(ranges, routes_.covering_hop(p));  // all or nothing
      routes_.erase(p);
    } else {
      const std::optional<NextHopId> old = routes_.find(p);
      routes_.set(p, hop);
      try {
        lpm_->assign(ranges, hop);
      } catch (...) {
        if (old) {
          routes_.set(p, *old);  // replaces: cannot throw
        } else {
          routes_.erase(p);
        }
        lpm_->set_route_count(routes_.size());
        throw;
      }
    }
    lpm_->set_route_count(routes_.size());
  }
}

std::unique_ptr<RouteTable> RouterRoutes::build(const RouteSet& set, bool lpm) const {
  const std::vector<HopRange> ranges = set.flatten();
  if (!lpm) return std::make_unique<CompactTable>(ranges, set.size());
  auto table = std::make_unique<LpmTable>(opts_.qsbr);
  table->load(ranges);
  table->set_route_count(set.size());
  return table;
}

void RouterRoutes::release_retired() {
  retired_.clear();
  if (lpm_ != nullptr) lpm_->reclaim();
}

std::vector<RouterRoutes::Route> RouterRoutes::routes() const {
  std::vector<Route> out;
  out.reserve(routes_.size());
  for (const auto& [k, hop] : routes_.map()) out.push_back({{k.first, k.second}, hop});
  return out;
}

}  // namespace dvr::dp
