#include "objects.h"

#include <utility>

#include "args.h"
#include "format.h"
#include "json_output.h"
#include "session.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

int upsert_object(Session& session, v1::Object obj, bool replace) {
  v1::Request req;
  v1::UpsertRequest& upsert = *req.mutable_upsert();
  *upsert.add_objects() = std::move(obj);
  upsert.set_replace(replace);
  print_bodyless_response(session, session.call(std::move(req)));
  return 0;
}

int delete_object(Session& session, const Invocation& inv, v1::ObjectKind kind, bool with_cascade,
                  std::string_view id_name) {
  const ParsedArgs args =
      with_cascade ? parse_args(inv, {{"--cascade", false}, {"--missing-ok", false}}, {id_name}, 1)
                   : parse_args(inv, {{"--missing-ok", false}}, {id_name}, 1);
  v1::Request req;
  v1::DeleteRequest& del = *req.mutable_delete_();
  del.set_kind(kind);
  del.set_id(args.positional[0]);
  del.set_cascade(args.has("--cascade"));
  del.set_missing_ok(args.has("--missing-ok"));
  print_bodyless_response(session, session.call(std::move(req)));
  return 0;
}

v1::ObjectList list_objects(Session& session, v1::ObjectKind kind) {
  v1::Request req;
  req.mutable_list()->set_kind(kind);
  v1::Response resp = session.call(std::move(req));
  return std::move(*resp.mutable_objects());
}

void print_objects(Session& session, const v1::ObjectList& list, Table table, const RowFn& row) {
  if (session.json()) {
    print_json(list, session.out());
    return;
  }
  for (const v1::Object& obj : list.objects()) {
    std::vector<std::string> cells = row(obj);
    if (!cells.empty()) table.add_row(std::move(cells));
  }
  table.print(session.out());
}

void print_bodyless_response(Session& session, const v1::Response& resp) {
  if (session.json()) {
    const auto* reflection = resp.GetReflection();
    const auto* body = resp.GetDescriptor()->FindOneofByName("body");
    const auto* field = body == nullptr ? nullptr : reflection->GetOneofFieldDescriptor(resp, body);
    if (field != nullptr) {
      print_json(reflection->GetMessage(resp, field), session.out());
    } else {
      // No body: print an empty object so that the output is still JSON.
      session.out() << "{}\n";
    }
  } else if (!resp.message().empty()) {
    session.out() << printable(resp.message()) << "\n";
  }
}

}  // namespace dvrctl
