"""The registry, read-only: departments, service items, windows with their posts, officers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from server.api.deps import SessionDep
from server.repo import registry
from server.web.deps import Reader
from server.web.render import render
from server.web.tables import ExportFormat, Link, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)


@router.get("/registry", response_model=None)
def registry_page(
    request: Request, session: SessionDep, viewer: Reader, format: ExportFormat | None = None
) -> Response:
    """Departments, items, windows and officers in the viewer's scope."""
    scope = viewer.scope
    departments = {d.id: d for d in registry.all_departments(session)}

    def visible(department_id: int | None) -> bool:
        return scope is None or department_id == scope

    dept_rows = [{"code": d.code, "name": d.name} for d in departments.values() if visible(d.id)]
    items = [
        {
            "code": i.code,
            "name": i.name,
            "department": departments[i.department_id].name if i.department_id in departments else "",
            "prefix": i.ticket_prefix,
            "days": i.committed_days,
            "materials": "、".join(str(m) for m in i.materials),
        }
        for i in registry.all_items(session)
        if visible(i.department_id)
    ]
    windows = []
    for w in registry.all_windows(session):
        if not visible(w.department_id):
            continue
        posts = registry.posts_for_window(session, w.id or 0)
        windows.append(
            {
                "number": f"{w.number}号窗口",
                "department": departments[w.department_id].name if w.department_id in departments else "",
                "items": "、".join(i.name for i in registry.items_for_window(session, w.id or 0)),
                "posts": "；".join(f"{p.role}岗：{o.name}（{o.staff_no}）" for p, o in posts),
                "commitments": "、".join(str(c) for c in w.commitments),
            }
        )
    officers = [
        {
            "staff_no": o.staff_no,
            "name": Link(o.name, f"/web/officers/{o.staff_no}"),
            "department": departments[o.department_id].name if o.department_id in departments else "",
            "post": o.post,
            "phone": o.supervision_phone,
            "active": "在职" if o.active else "停用",
        }
        for o in registry.all_officers(session)
        if visible(o.department_id)
    ]
    tables = [
        Table("部门", [("code", "代码"), ("name", "名称")], dept_rows),
        Table(
            "服务事项",
            [
                ("code", "代码"),
                ("name", "名称"),
                ("department", "部门"),
                ("prefix", "号码前缀"),
                ("days", "承诺时限（工作日）"),
                ("materials", "材料清单"),
            ],
            items,
        ),
        Table(
            "窗口",
            [
                ("number", "窗口"),
                ("department", "部门"),
                ("items", "办理事项"),
                ("posts", "AB岗"),
                ("commitments", "服务承诺"),
            ],
            windows,
        ),
        Table(
            "工作人员",
            [
                ("staff_no", "工号"),
                ("name", "姓名"),
                ("department", "部门"),
                ("post", "岗位"),
                ("phone", "监督电话"),
                ("active", "状态"),
            ],
            officers,
        ),
    ]
    if format is not None:
        return export(tables, format, "registry")
    return render(request, "tables.html", viewer.context(title="基础信息", active="registry", tables=tables))
