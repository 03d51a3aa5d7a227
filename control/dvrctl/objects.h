// Requests on tenant objects (routers, networks, subnets, router interfaces, VM ports, static
// routes), shared by their commands so that each handler only builds or prints its own object.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "dvr.pb.h"
#include "table.h"

namespace dvrctl {

class Session;

// Sends one UpsertRequest carrying `obj` and prints the answer like print_bodyless_response().
int upsert_object(Session& session, dvr::api::v1::Object obj, bool replace);

// `dvrctl KIND remove`: parses "ID [--cascade] [--missing-ok]" (without --cascade when
// `with_cascade` is false; `id_name` is what the usage calls ID), sends a DeleteRequest and
// prints the answer like print_bodyless_response().
int delete_object(Session& session, const Invocation& inv, dvr::api::v1::ObjectKind kind,
                  bool with_cascade, std::string_view id_name = "ID");

// Sends a ListRequest for `kind` and returns the objects dvrd holds.
dvr::api::v1::ObjectList list_objects(Session& session, dvr::api::v1::ObjectKind kind);

// Prints `list` as JSON with --json; otherwise adds one row per object to `table` with `row`
// (objects for which `row` returns nothing are left out) and prints it.
using RowFn = std::function<std::vector<std::string>(const dvr::api::v1::Object&)>;
void print_objects(Session& session, const dvr::api::v1::ObjectList& list, Table table,
                   const RowFn& row);

// For a request whose answer normally has no body: with --json prints the body if dvrd sent
// one, else {}; without, prints dvrd's message if there is one, else nothing.
void print_bodyless_response(Session& session, const dvr::api::v1::Response& resp);

}  // namespace dvrctl
