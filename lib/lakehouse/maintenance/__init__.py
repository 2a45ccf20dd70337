"""Delta table maintenance: OPTIMIZE (bin-packing, or ZORDER BY) and VACUUM with a safe retention."""
