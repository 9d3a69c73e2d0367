"""PyTorch code of the deep methods. Imported only after `stfusion.methods.deep.run.require_torch`."""
