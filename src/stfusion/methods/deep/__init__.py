"""Deep spatiotemporal fusion networks (STFDCNN, DCSTFN, EDCSTFN, GAN-STFM); torch is imported lazily."""
