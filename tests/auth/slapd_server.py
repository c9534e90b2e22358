"""A real OpenLDAP server for the directory log-in tests: its own slapd on free localhost
ports, from a temporary directory with a generated cn=config (mdb backend), loaded with people
and groups, serving ldap:// (StartTLS) and ldaps:// with a certificate of a throwaway CA.

Needs Debian's ``slapd``, ``ldap-utils`` and ``openssl``; without them the tests skip, unless
CI=true (then they fail, so CI cannot pass without testing the directory)."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

BASE = "dc=example,dc=com"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PW = "admin-secret"
SERVICE_DN = f"cn=docmgmt,ou=services,{BASE}"
SERVICE_PW = "service-secret"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"

_SBIN = ("/usr/sbin", "/usr/local/sbin", "/usr/local/libexec")


def tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in _SBIN:
        if os.access(f"{d}/{name}", os.X_OK):
            return f"{d}/{name}"
    return None


def available() -> bool:
    return all(tool(t) for t in ("slapd", "slapadd", "openssl"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _module_dir() -> str | None:
    for d in ("/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap", "/usr/libexec/openldap"):
        if Path(d, "back_mdb.la").exists() or Path(d, "back_mdb.so").exists():
            return d
    return None  # built in


def _schema_dir() -> str:
    for d in ("/etc/ldap/schema", "/etc/openldap/schema", "/usr/local/etc/openldap/schema"):
        if Path(d, "core.ldif").exists():
            return d
    raise RuntimeError("no OpenLDAP schema directory")


def make_ca(directory: Path) -> dict:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1 signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    ossl = tool("openssl")

    def run(*args):
        subprocess.run([ossl, *args], cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (directory / "ext.cnf").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
    )
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem")  # fmt: skip
    return {k: str(directory / f) for k, f in
            (("ca", "ca.pem"), ("cert", "server.pem"), ("key", "server.key"))}  # fmt: skip


def _config_ldif(tmp: Path, tls: dict) -> str:
    modules = _module_dir()
    schema = _schema_dir()
    module_part = (
        f"""dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {modules}
olcModuleLoad: back_mdb

"""
        if modules
        else ""
    )
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {tmp}/slapd.pid
olcTLSCACertificateFile: {tls["ca"]}
olcTLSCertificateFile: {tls["cert"]}
olcTLSCertificateKeyFile: {tls["key"]}

{module_part}dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://{schema}/core.ldif

include: file://{schema}/cosine.ldif

include: file://{schema}/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {BASE}
olcDbDirectory: {tmp}/data
olcDbMaxSize: 33554432
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PW}
olcAccess: {{0}}to attrs=userPassword by anonymous auth by self write by * none
olcAccess: {{1}}to * by users read by * none
"""


def person(uid, name, password, mail="", department=""):
    lines = [
        f"dn: uid={uid},{PEOPLE}",
        "objectClass: inetOrgPerson",
        f"uid: {uid}",
        f"cn: {name}",
        f"sn: {name.split()[-1]}",
        f"userPassword: {password}",
    ]
    if mail:
        lines.append(f"mail: {mail}")
    if department:
        lines.append(f"departmentNumber: {department}")
    return "\n".join(lines) + "\n\n"


def group(cn, members):
    lines = [f"dn: cn={cn},{GROUPS}", "objectClass: groupOfNames", f"cn: {cn}"]
    lines += [f"member: uid={m},{PEOPLE}" for m in members] or [f"member: {ADMIN_DN}"]
    return "\n".join(lines) + "\n\n"


def data_ldif(people, groups) -> str:
    text = f"""dn: {BASE}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,{BASE}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{BASE}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{BASE}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: person
cn: docmgmt
sn: service
userPassword: {SERVICE_PW}

"""
    return text + "".join(person(*p) for p in people) + "".join(group(*g) for g in groups)


class Slapd:
    def __init__(self, root: Path, tls: dict, people, groups):
        self.root = root
        self.tls = tls
        self.port = _free_port()
        self.tls_port = _free_port()
        (root / "data").mkdir(parents=True)
        (root / "slapd.d").mkdir()
        (root / "config.ldif").write_text(_config_ldif(root, tls))
        (root / "data.ldif").write_text(data_ldif(people, groups))
        slapadd = tool("slapadd")
        for n, f in (("0", "config.ldif"), ("1", "data.ldif")):
            subprocess.run(
                [slapadd, "-n", n, "-F", str(root / "slapd.d"), "-l", str(root / f)],
                check=True,
                capture_output=True,
            )
        self.proc = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://localhost:{self.tls_port}"

    def start(self):
        urls = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"
        self.log = open(self.root / "slapd.log", "wb")  # noqa: SIM115
        # -d keeps slapd in the foreground, so the test run owns the process.
        self.proc = subprocess.Popen(
            [tool("slapd"), "-d", "0", "-F", str(self.root / "slapd.d"), "-h", urls],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "slapd exited: " + (self.root / "slapd.log").read_text(errors="replace")
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("slapd did not start listening")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()

    def admin(self):
        """An ldap3 connection as the directory's administrator, to change people and groups."""
        import ldap3

        return ldap3.Connection(
            ldap3.Server(self.url), ADMIN_DN, ADMIN_PW, auto_bind=True, raise_exceptions=True
        )
