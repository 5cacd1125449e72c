import CNetlink

extension NetlinkSocket {
    /// Resolves a generic netlink family (e.g. "IPVS") to its id. A family the kernel
    /// does not have gets an error that names the module to load, since that is the
    /// usual cause (this development machine's kernel has no IPVS at all).
    public func genericFamilyID(_ name: String, module: String? = nil) throws(NetlinkError) -> Int32 {
        let id = genl_ctrl_resolve(handle, name)
        guard id >= 0 else {
            var error = NetlinkError(code: id, operation: "resolving generic netlink family \(name)")
            if id == -Int32(NLE_OBJ_NOTFOUND), let module {
                error.operation = "\(name) is not available in this kernel (modprobe \(module))"
            }
            throw error
        }
        return id
    }
}
